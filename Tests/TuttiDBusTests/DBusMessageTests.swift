import Foundation
import NIOCore
import Testing
@testable import TuttiDBus

@Suite struct DBusMessageTests {
    /// Every type code, containers nested in each other, empty containers and variants.
    static let everyKind: [DBusValue] = [
        .byte(7), .boolean(true), .int16(-3), .uint16(65535), .int32(-70000), .uint32(4_000_000_000),
        .int64(-1 << 40), .uint64(1 << 63), .double(-0.125), .string("Küche"), .objectPath("/org/bluez/hci0/dev_AA_BB"),
        .signature("a{sv}"),
        .array(element: "s", []),
        .array(element: "x", [.int64(1), .int64(2)]),
        .properties(["Powered": .boolean(true), "Name": .string("hci0"), "UUIDs": .array(element: "s", [.string("0000110b")])]),
        .dictionary(key: "o", value: "a{sa{sv}}", [.init(.objectPath("/a"), .dictionary(key: "s", value: "a{sv}", [.init(.string("org.bluez.Device1"), .properties(["RSSI": .int16(-60)]))]))]),
        .structure([.byte(1), .variant(.structure([.string("x"), .double(2)]))]),
        .variant(.variant(.array(element: "y", [.byte(1), .byte(2), .byte(3)]))),
    ]

    @Test func aMessageWithEveryKindOfValueRoundTrips() throws {
        var message = DBusMessage(kind: .methodCall, path: "/org/bluez/hci0", interface: "org.bluez.Adapter1", member: "SetDiscoveryFilter", destination: "org.bluez", body: Self.everyKind)
        message.serial = 42
        message.flags = DBusMessage.noReplyExpected
        let bytes = try message.encoded()
        #expect(try DBusMessage.length(ofMessageStartingIn: bytes[...]) == bytes.count)
        #expect(try DBusMessage(decoding: bytes) == message)
    }

    @Test(arguments: [DBusMessage.Kind.methodReturn, .error, .signal])
    func repliesAndSignalsRoundTrip(kind: DBusMessage.Kind) throws {
        var message = DBusMessage(kind: kind, path: kind == .signal ? "/" : nil, interface: kind == .signal ? "org.freedesktop.DBus.Properties" : nil, member: kind == .signal ? "PropertiesChanged" : nil, body: [.string("why")])
        message.serial = 9
        if kind != .signal { message.replySerial = 8 }
        if kind == .error { message.errorName = "org.bluez.Error.Failed" }
        message.sender = ":1.5"
        #expect(try DBusMessage(decoding: try message.encoded()) == message)
    }

    /// The bytes of a Hello call as the specification lays them out, written by hand.
    @Test func helloMatchesTheSpecifiedLayout() throws {
        var message = DBusMessage(kind: .methodCall, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello", destination: "org.freedesktop.DBus")
        message.serial = 1
        let bytes = try message.encoded()
        // 'l', method call, no flags, version 1; body length 0; serial 1.
        #expect(Array(bytes[0..<12]) == [0x6C, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
        // The first header field: code 1 (path), variant signature "o", then the path's length.
        #expect(Array(bytes[16..<24]) == [1, 1, UInt8(ascii: "o"), 0, 21, 0, 0, 0])
        #expect(String(decoding: bytes[24..<45], as: UTF8.self) == "/org/freedesktop/DBus")
        #expect(bytes.count % 8 == 0)
    }

    @Test func bigEndianMessagesDecode() throws {
        // A method return with reply serial 5 and a uint32 body of 258, written big-endian by hand.
        var bytes: [UInt8] = [UInt8(ascii: "B"), 2, 0, 1, 0, 0, 0, 4, 0, 0, 0, 3]
        let fields: [UInt8] = [5, 1, UInt8(ascii: "u"), 0, 0, 0, 0, 5, 8, 1, UInt8(ascii: "g"), 0, 1, UInt8(ascii: "u"), 0]
        bytes += [0, 0, 0, UInt8(fields.count)] + fields
        while bytes.count % 8 != 0 { bytes.append(0) }
        bytes += [0, 0, 1, 2]
        let message = try DBusMessage(decoding: bytes)
        #expect(message.kind == .methodReturn && message.replySerial == 5 && message.serial == 3)
        #expect(message.body == [.uint32(258)])
    }

    @Test(arguments: ["a", "a{vs}", "(", "()", "a{s}", "z", "a{sv", String(repeating: "a", count: 40) + "y", String(repeating: "(", count: 40) + "y" + String(repeating: ")", count: 40)])
    func badSignaturesAreRefused(signature: String) {
        #expect(throws: DBusWireError.self) { try DBusType.parse(signature) }
    }

    @Test func aValueThatDoesNotMatchItsDeclaredTypeIsRefused() {
        let message = DBusMessage(kind: .methodCall, path: "/", member: "M", body: [.array(element: "s", [.int32(1)])])
        #expect(throws: DBusWireError.self) { try message.encoded() }
    }

    /// A message cut short anywhere, or with any byte changed, throws or decodes: never traps.
    @Test func damagedMessagesThrowAndNeverTrap() throws {
        var message = DBusMessage(kind: .signal, path: "/org/bluez/hci0", interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged", body: Self.everyKind)
        message.serial = 3
        let bytes = try message.encoded()
        for cut in 0..<bytes.count {
            #expect(throws: DBusWireError.self) { try DBusMessage(decoding: Array(bytes[..<cut])) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? DBusMessage.length(ofMessageStartingIn: damaged[...])
            _ = try? DBusMessage(decoding: damaged)
        }
    }

    /// The socket decoder: authentication lines, then messages arriving a byte at a time.
    @Test func theFrameDecoderSplitsLinesThenMessagesWhateverTheChunking() throws {
        var first = DBusMessage(kind: .methodReturn, body: [.string(":1.7")])
        first.serial = 1
        first.replySerial = 1
        var second = DBusMessage(kind: .signal, path: "/", interface: "org.freedesktop.DBus", member: "NameAcquired", body: [.string(":1.7")])
        second.serial = 2
        let stream = Array("OK 1234deadbeef\r\n".utf8) + (try first.encoded()) + (try second.encoded())
        for chunk in [1, 3, 16, stream.count] {
            var decoder = DBusFrameDecoder()
            var buffer = ByteBuffer()
            var seen: [String] = []
            for start in stride(from: 0, to: stream.count, by: chunk) {
                buffer.writeBytes(stream[start..<min(start + chunk, stream.count)])
                while let item = try decoder.next(from: &buffer) {
                    switch item {
                    case .authLine(let line): seen.append("line \(line)")
                    case .message(let message): seen.append("message \(message.serial)")
                    }
                }
            }
            #expect(seen == ["line OK 1234deadbeef", "message 1", "message 2"], "chunks of \(chunk)")
        }
    }

    /// Messages libdbus wrote (dbus-send, dbus-daemon, python-dbus serving the BlueZ stand-in),
    /// recorded with `dbus-monitor --binary`: every one decodes, and re-encodes to itself.
    @Test func messagesRecordedFromLibdbusDecode() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/dbus-monitor", withExtension: "bin"))
        var rest = try [UInt8](Data(contentsOf: url))[...]
        var messages: [DBusMessage] = []
        while !rest.isEmpty {
            let length = try #require(try DBusMessage.length(ofMessageStartingIn: rest))
            let message = try DBusMessage(decoding: Array(rest.prefix(length)))
            #expect(try DBusMessage(decoding: try message.encoded()) == message)
            messages.append(message)
            rest = rest.dropFirst(length)
        }
        #expect(messages.count > 10)
        let objects = try #require(messages.first { $0.kind == .methodReturn && $0.body.first?.signature == "a{oa{sa{sv}}}" })
        guard case .dictionary(_, _, let entries) = objects.body[0] else { Issue.record("not a dictionary"); return }
        #expect(entries.contains { $0.key == .objectPath("/org/bluez/hci0/dev_AA_BB_CC_00_00_01") })
        #expect(messages.contains { $0.kind == .error && $0.errorName == "org.bluez.Error.NotConnected" })
    }

    @Test func addressesGiveTheirSocketPath() throws {
        #expect(try DBusConnection.socketPath(of: "unix:path=/run/dbus/system_bus_socket") == "/run/dbus/system_bus_socket")
        #expect(try DBusConnection.socketPath(of: "tcp:host=x;unix:guid=1,path=/tmp/a%20b") == "/tmp/a b")
        #expect(throws: DBusError.self) { try DBusConnection.socketPath(of: "unix:abstract=/tmp/x") }
    }
}
