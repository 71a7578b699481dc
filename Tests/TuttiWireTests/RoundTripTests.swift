import NIOCore
import Testing
@testable import TuttiWire

/// Every message type survives encode → decode unchanged, header fields included.
@Suite struct RoundTripTests {
    static let samples: [SnapFrame] = [
        SnapFrame(id: 0, refersTo: 0, sent: TimeVal(sec: 12, usec: 345_678), message: .codecHeader(
            CodecHeader(codec: "pcm", payload: ByteBuffer(bytes: Array(0..<44))))),
        SnapFrame(id: 7, message: .wireChunk(WireChunk(timestamp: TimeVal(sec: 100, usec: 20_000), data: ByteBuffer(bytes: [1, 2, 3, 4])))),
        SnapFrame(id: 1, refersTo: 9, message: .serverSettings(ServerSettings(bufferMs: 800, latency: 12, volume: 37, muted: true))),
        SnapFrame(id: 3, refersTo: 2, sent: TimeVal(sec: -1, usec: 999_999), received: TimeVal(sec: 5, usec: 1), message: .time(TimeMessage(latency: TimeVal(sec: 0, usec: 1234)))),
        SnapFrame(id: 4, message: .hello(Hello(mac: "aa:bb:cc:dd:ee:ff", hostName: "kitchen", version: "0.26.0", clientName: "Snapclient", os: "Debian", arch: "x86_64", instance: 2, id: "kitchen-1", protocolVersion: 2))),
        SnapFrame(id: 5, message: .streamTags(StreamTags(json: #"{"artist":"Ünïcødé"}"#))),
        SnapFrame(id: 6, message: .clientInfo(ClientInfo(volume: 0, muted: true))),
        SnapFrame(id: 65535, message: .wireChunk(WireChunk(timestamp: .zero, data: ByteBuffer()))),
        // Tutti's extensions: capabilities in Hello, channel and status interval in ServerSettings, SpeakerStatus.
        SnapFrame(id: 8, message: .hello(Hello(hostName: "den", id: "den", capabilities: ["channel", "status"]))),
        SnapFrame(id: 9, message: .serverSettings(ServerSettings(bufferMs: 1000, channel: "left", statusIntervalMs: 1000))),
        SnapFrame(id: 10, message: .speakerStatus(SpeakerStatusReport(locked: true, clockErrorUs: 3.5, ratePpm: -12.25, bufferMs: 950, outputDelayMs: 180, underruns: 2, hardSyncs: 1, playoutErrorUs: 0.5))),
        SnapFrame(id: 12, message: .serverSettings(ServerSettings(latency: 180, latencyMicroseconds: 180_460, trimDB: -3.25))),
        SnapFrame(id: 13, message: .serverSettings(ServerSettings(timeToken: 0x0012_3456_789a_bcde))),
        SnapFrame(id: 14, message: .speakerStatus(SpeakerStatusReport(locked: true, timeChannel: "datagram"))),
        SnapFrame(id: 11, message: .hostCall(HostCall(json: #"{"jsonrpc":"2.0","id":1,"method":"Bluetooth.GetStatus"}"#))),
    ]

    @Test func snapcastsOwnMessagesCarryNoTuttiKeys() {
        let settings = String(buffer: SnapFrame(message: .serverSettings(ServerSettings(bufferMs: 1000))).encoded().getSlice(at: 30, length: 200) ?? ByteBuffer())
        #expect(!settings.contains("channel") && !settings.contains("statusIntervalMs") && !settings.contains("latencyUs") && !settings.contains("trimDb")
            && !settings.contains("timeToken"))
        let hello = String(buffer: SnapFrame(message: .hello(Hello(id: "x"))).encoded())
        #expect(!hello.contains("TuttiCapabilities"))
    }

    @Test(arguments: samples)
    func roundTrip(frame: SnapFrame) throws {
        var buffer = frame.encoded()
        let size = buffer.getInteger(at: 22, endianness: .little, as: UInt32.self)
        #expect(Int(size!) == buffer.readableBytes - MessageHeader.size)
        let decoded = try #require(try SnapFrameDecoder().next(from: &buffer))
        #expect(decoded == normalized(frame))
        #expect(buffer.readableBytes == 0)
    }

    @Test func timeValNormalizesNegativeNanoseconds() {
        #expect(TimeVal(nanoseconds: -1_500_000) == TimeVal(sec: -1, usec: 998_500))
        #expect(TimeVal(nanoseconds: 2_000_001_999) == TimeVal(sec: 2, usec: 1))
        #expect(TimeVal(nanoseconds: -1) == TimeVal(sec: -1, usec: 999_999))
        #expect(TimeVal(sec: 3, usec: -250_000).nanoseconds == 2_750_000_000)
    }

    @Test func helloClientIDFallsBackToMAC() {
        #expect(Hello(mac: "m", instance: 1, id: "").clientID == "m")
        #expect(Hello(mac: "m", instance: 3, id: "").clientID == "m#3")
        #expect(Hello(mac: "m", instance: 3, id: "x").clientID == "x#3")
        #expect(Hello(mac: "m", instance: 1, id: "x").clientID == "x")
    }

    @Test func helloWithMissingKeysTakesDefaults() throws {
        var buffer = frameBytes(type: 5, payload: jsonString(#"{"HostName":"den"}"#))
        let frame = try #require(try SnapFrameDecoder().next(from: &buffer))
        guard case .hello(let hello) = frame.message else { Issue.record("not a hello"); return }
        #expect(hello.hostName == "den")
        #expect(hello.instance == 1)
        #expect(hello.protocolVersion == 2)
    }

    @Test func stampSentOverwritesOnlyTheSentField() throws {
        var buffer = SnapFrame(id: 2, refersTo: 1, message: .time(TimeMessage(latency: TimeVal(sec: 0, usec: 5)))).encoded()
        buffer.stampSent(TimeVal(nanoseconds: 7_000_123_000))
        let frame = try #require(try SnapFrameDecoder().next(from: &buffer))
        #expect(frame.sent == TimeVal(sec: 7, usec: 123))
        #expect(frame.refersTo == 1)
        #expect(frame.message == .time(TimeMessage(latency: TimeVal(sec: 0, usec: 5))))
    }

    /// The decoder reports times as they were sent; encoding normalizes them.
    private func normalized(_ frame: SnapFrame) -> SnapFrame {
        var copy = frame
        copy.sent = TimeVal(nanoseconds: frame.sent.nanoseconds)
        copy.received = TimeVal(nanoseconds: frame.received.nanoseconds)
        return copy
    }
}

/// Builds raw frame bytes with an arbitrary type and payload (for malformed-input tests).
func frameBytes(type: UInt16, payload: [UInt8], sizeOverride: UInt32? = nil) -> ByteBuffer {
    var buffer = ByteBuffer()
    MessageHeader(type: type, payloadSize: sizeOverride ?? UInt32(payload.count)).write(to: &buffer)
    buffer.writeBytes(payload)
    return buffer
}

/// A u32-length-prefixed string as payload bytes.
func jsonString(_ text: String) -> [UInt8] {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(text.utf8.count), endianness: .little)
    buffer.writeString(text)
    return Array(buffer.readableBytesView)
}
