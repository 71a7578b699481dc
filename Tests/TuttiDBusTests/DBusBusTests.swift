import Foundation
import Testing
import TuttiDBus
import TuttiHarness

/// Against a real `dbus-daemon` and its own `dbus-send`: what the bus itself answers, calls
/// between two connections, signals, errors, and an independent client calling our object.
@Suite(.serialized, .enabled(if: which("dbus-daemon") != nil && which("dbus-send") != nil, "needs dbus-daemon and dbus-send (Debian: dbus-daemon, dbus-bin)"))
struct DBusBusTests {
    let bus: PrivateBus?

    init() {
        bus = try? PrivateBus.start()
    }

    @Test func theBusNamesUsAndListsUs() async throws {
        let bus = try #require(bus, "dbus-daemon did not start")
        let connection = try await DBusConnection.connect(to: bus.address)
        defer { connection.close() }
        #expect(connection.uniqueName.hasPrefix(":1."))
        let names = try await connection.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "ListNames")
        let listed = names.first?.array?.compactMap(\.string) ?? []
        #expect(listed.contains(connection.uniqueName))
        #expect(listed.contains("org.freedesktop.DBus"))
    }

    @Test func callsReachAnExportedObjectAndErrorsComeBackByName() async throws {
        let bus = try #require(bus, "dbus-daemon did not start")
        let service = try await DBusConnection.connect(to: bus.address)
        let client = try await DBusConnection.connect(to: bus.address)
        defer { service.close(); client.close() }
        #expect(try await service.requestName("org.tutti.Test"))
        service.export(path: "/org/tutti/echo") { call in
            switch call.member {
            case "Echo": .success(call.body)
            default: .failure(DBusError(name: "org.tutti.Error.Refused", message: "no \(call.member ?? "")"))
            }
        }
        let sent = DBusMessageTests.everyKind
        let echoed = try await client.call(destination: "org.tutti.Test", path: "/org/tutti/echo", interface: "org.tutti.Echo", member: "Echo", body: sent)
        #expect(echoed == sent)
        await #expect(throws: DBusError(name: "org.tutti.Error.Refused", message: "no Other")) {
            try await client.call(destination: "org.tutti.Test", path: "/org/tutti/echo", interface: "org.tutti.Echo", member: "Other")
        }
        // Nobody at the path, nobody owning the name.
        await #expect(throws: DBusError.self) {
            try await client.call(destination: "org.tutti.Test", path: "/nothing", interface: "org.tutti.Echo", member: "Echo")
        }
        do {
            try await client.call(destination: "org.tutti.Nobody", path: "/", interface: "org.tutti.Echo", member: "Echo")
            Issue.record("a call to a name nobody owns returned")
        } catch let error as DBusError {
            #expect(error.name == "org.freedesktop.DBus.Error.ServiceUnknown")
        }
    }

    @Test func signalsReachSubscribersAndACallWithNoAnswerTimesOut() async throws {
        let bus = try #require(bus, "dbus-daemon did not start")
        let service = try await DBusConnection.connect(to: bus.address)
        let client = try await DBusConnection.connect(to: bus.address)
        defer { service.close(); client.close() }
        let signals = try await client.signals(matching: "type='signal',interface='org.tutti.Test'")
        try service.emitSignal(path: "/org/tutti/x", interface: "org.tutti.Test", member: "Changed", body: [.properties(["Volume": .uint16(64)])])
        var iterator = signals.makeAsyncIterator()
        let signal = try #require(await iterator.next())
        #expect(signal.member == "Changed" && signal.path == "/org/tutti/x" && signal.sender == service.uniqueName)
        #expect(signal.body.first?.stringDictionary?["Volume"]?.int == 64)

        // An object that never answers: the call ends at its timeout, not never.
        service.export(path: "/slow") { _ in
            try? await Task.sleep(for: .seconds(5))
            return .success([])
        }
        let started = ContinuousClock.now
        await #expect(throws: DBusError.timedOut("org.tutti.Slow.Wait on \(service.uniqueName)")) {
            try await client.call(destination: service.uniqueName, path: "/slow", interface: "org.tutti.Slow", member: "Wait", timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    /// `dbus-send` (libdbus, not our code) calls our object and prints what it got back.
    @Test func anIndependentClientReadsWhatWeReply() async throws {
        let bus = try #require(bus, "dbus-daemon did not start")
        let dbusSend = try #require(which("dbus-send"))
        let service = try await DBusConnection.connect(to: bus.address)
        defer { service.close() }
        #expect(try await service.requestName("org.tutti.Test"))
        service.export(path: "/org/tutti/echo") { call in
            let text = call.body.first?.string ?? "?"
            let number = call.body.dropFirst().first?.int ?? 0
            return .success([.string(text.uppercased()), .int32(Int32(number * 2)), .properties(["ok": .boolean(true)])])
        }
        let child = try ChildProcess(dbusSend, ["--bus=\(bus.address)", "--print-reply", "--dest=org.tutti.Test", "/org/tutti/echo", "org.tutti.Echo.Shout", "string:küche", "int32:21"])
        let exit = await Task.detached { child.waitForExit(seconds: 10).flatMap { child.waitForOutputEnd(seconds: 5) ? $0 : nil } }.value
        let printed = String(decoding: child.output, as: UTF8.self)
        #expect(exit == 0, "\(child.errorText)")
        #expect(printed.contains("string \"KÜCHE\""))
        #expect(printed.contains("int32 42"))
        #expect(printed.contains("string \"ok\"") && printed.contains("boolean true"))
    }

    @Test func theBusGoingAwayFailsPendingCallsAndEndsSignals() async throws {
        let bus = try PrivateBus.start()
        let service = try await DBusConnection.connect(to: bus.address)
        let client = try await DBusConnection.connect(to: bus.address)
        service.export(path: "/never") { _ in
            try? await Task.sleep(for: .seconds(30))
            return .success([])
        }
        let signals = try await client.signals(matching: "type='signal'")
        let pending = Task { try await client.call(destination: service.uniqueName, path: "/never", interface: "x.Y", member: "Z") }
        try await Task.sleep(for: .milliseconds(200))
        bus.stop()
        await #expect(throws: DBusError.self) { try await pending.value }
        for await _ in signals {}  // finishes
        await #expect(throws: DBusError.self) { try await client.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "ListNames") }
        service.close()
    }
}
