import Foundation
import Logging
import Testing
import TuttiDBus
import TuttiHarness
@testable import TuttiBluetooth

/// The manager against a real dbus-daemon with the BlueZ stand-in: scan, pair (through our
/// agent), connect, the adapter queue and limit, every failure, forgetting, reconnecting.
@Suite(.serialized, .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"))
struct BluetoothManagerTests {
    static let house = """
        {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:01", "op_ms": 200}, {"name": "hci1", "powered": false}],
         "devices": [
           {"address": "AA:BB:CC:00:00:01", "name": "JBL Flip 5", "rssi": -50, "codec": 0, "delay": 1500},
           {"address": "AA:BB:CC:00:00:02", "name": "Bose SoundLink", "rssi": -62, "codec": 2},
           {"address": "AA:BB:CC:00:00:03", "name": "UE Boom", "rssi": -70},
           {"address": "AA:BB:CC:00:00:04", "name": "Grumpy Speaker", "behaviour": "reject_pairing"},
           {"address": "AA:BB:CC:00:00:05", "name": "Far Away", "in_range": false, "paired": true, "trusted": true},
           {"address": "AA:BB:CC:00:00:06", "name": "Old Friend", "paired": true, "trusted": true}
         ]}
        """

    static func configuration(limit: Int = 3, reconnect: Bool = false) -> BluetoothManager.Configuration {
        var configuration = BluetoothManager.Configuration()
        configuration.defaultLimit = limit
        configuration.spacing = .milliseconds(50)
        configuration.reconnect = reconnect
        configuration.reconnectInitial = .milliseconds(200)
        configuration.reconnectMaximum = .seconds(1)
        return configuration
    }

    static func start(_ bluez: FakeBlueZ, _ configuration: BluetoothManager.Configuration = configuration()) async throws -> (BluetoothManager, DBusConnection) {
        let bus = try await DBusConnection.connect(to: bluez.bus.address)
        let manager = try await BluetoothManager.start(bus: bus, configuration: configuration, logger: Logger(label: "test"))
        return (manager, bus)
    }

    @Test func scanFindsSpeakersAndPairingConnectsThemThroughOurAgent() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let (manager, bus) = try await Self.start(bluez)
        defer { bus.close() }
        #expect(try bluez.calls().contains("AgentManager1.RegisterAgent /org/tutti/agent NoInputNoOutput"))
        let adapters = await manager.adapters
        #expect(adapters.map(\.name) == ["hci0", "hci1"] && adapters[0].powered && !adapters[1].powered)

        let found = try await manager.scan(seconds: 0.6)
        let names = found.map(\.name)
        #expect(Set(names).isSuperset(of: ["JBL Flip 5", "Bose SoundLink", "UE Boom"]))
        #expect(found.first { $0.name == "JBL Flip 5" }?.rssi == -50)

        let jbl = try await manager.pair("JBL Flip 5")
        #expect(jbl.paired && jbl.trusted && jbl.connected)
        // The transport appears with the connection: codec and the speaker's reported delay.
        #expect(await Self.eventually { await manager.devices.first { $0.name == "JBL Flip 5" }?.codec == "SBC" })
        #expect(await manager.devices.first { $0.name == "JBL Flip 5" }?.reportedDelayMs == 150)
        #expect(try bluez.calls().contains { $0.hasPrefix("Device1.Pair AA:BB:CC:00:00:01") })
    }

    @Test func threeSpeakersAskedForAtOnceAreQueuedOnTheirAdapterAndAFourthIsRefusedByTheLimit() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let (manager, bus) = try await Self.start(bluez, Self.configuration(limit: 3))
        defer { bus.close() }
        _ = try await manager.scan(seconds: 0.6)
        // All at once: BlueZ would answer InProgress to the second; the queue makes them wait.
        async let a = manager.pair("AA:BB:CC:00:00:01")
        async let b = manager.pair("AA:BB:CC:00:00:02")
        async let c = manager.pair("AA:BB:CC:00:00:03")
        let paired = try await [a, b, c]
        #expect(paired.allSatisfy { $0.connected })
        // Pair and Connect on hci0 never overlapped.
        let calls = try bluez.calls()
        let spans = calls.compactMap(Self.span)
        #expect(spans.count == 6, "\(calls)")
        for (earlier, later) in zip(spans.sorted { $0.start < $1.start }, spans.sorted { $0.start < $1.start }.dropFirst()) {
            #expect(earlier.end <= later.start, "overlap: \(earlier) and \(later)")
        }
        // A fourth speaker on the same adapter: refused by name, with the three it plays to.
        do {
            _ = try await manager.connect("Old Friend")
            Issue.record("a fourth speaker connected past the limit")
        } catch {
            #expect(error.code == "adapter-limit")
            #expect(error.description.contains("JBL Flip 5") && error.description.contains("disconnect one or add an adapter"))
        }
        #expect(await manager.adapters.first?.connected.count == 3)
    }

    /// "Device1.Connect AA:.. start=1.0 end=1.2 result=ok" → its span.
    static func span(_ entry: String) -> (start: Double, end: Double)? {
        guard entry.hasPrefix("Device1.Pair") || entry.hasPrefix("Device1.Connect"), entry.contains("start=") else { return nil }
        var start: Double?, end: Double?
        for field in entry.split(separator: " ") {
            if field.hasPrefix("start=") { start = Double(field.dropFirst(6)) }
            if field.hasPrefix("end=") { end = Double(field.dropFirst(4)) }
        }
        guard let start, let end else { return nil }
        return (start, end)
    }

    @Test func everyFailureIsAClearOutcome() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let (manager, bus) = try await Self.start(bluez)
        defer { bus.close() }
        _ = try await manager.scan(seconds: 0.6)
        func outcome(_ operation: () async throws -> Void) async -> String {
            do {
                try await operation()
                return "ok"
            } catch let error as BluetoothError {
                return error.code
            } catch {
                return "\(error)"
            }
        }
        #expect(await outcome { _ = try await manager.pair("Grumpy Speaker") } == "pairing-rejected")
        #expect(await outcome { _ = try await manager.connect("Far Away") } == "out-of-range")
        #expect(await outcome { _ = try await manager.connect("No Such Speaker") } == "unknown-device")
        #expect(await outcome { _ = try await manager.connect("UE Boom") } == "not-possible")  // not paired
        #expect(await outcome { _ = try await manager.scan(seconds: 0.5, adapter: "hci1") } == "adapter-off")
        #expect(await outcome { _ = try await manager.scan(seconds: 0.5, adapter: "hci7") } == "no-adapter")
        // Nothing half-done: the rejected speaker is not paired.
        #expect(await manager.devices.first { $0.name == "Grumpy Speaker" }?.paired == false)
    }

    @Test func withoutBlueZTheManagerSaysSo() async throws {
        let bus = try PrivateBus.start()
        let connection = try await DBusConnection.connect(to: bus.address)
        defer { connection.close() }
        do {
            _ = try await BluetoothManager.start(bus: connection, logger: Logger(label: "test"))
            Issue.record("started without BlueZ")
        } catch {
            #expect(error.code == "no-adapter")
            #expect(error.description.contains("bluetoothd"))
        }
    }

    @Test func forgettingRemovesThePairingAndForgetAllEveryOne() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let (manager, bus) = try await Self.start(bluez)
        defer { bus.close() }
        _ = try await manager.connect("Old Friend")
        #expect(try await manager.forget("old friend") == "AA:BB:CC:00:00:06")
        try await Task.sleep(for: .milliseconds(100))
        #expect(await manager.devices.contains { $0.name == "Old Friend" } == false)
        #expect(try await manager.forgetAll() == ["AA:BB:CC:00:00:05"])
        #expect(await manager.devices.filter(\.paired).isEmpty)
    }

    @Test func aSpeakerThatComesBackIsReconnectedButNotOneTheUserDisconnected() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let (manager, bus) = try await Self.start(bluez, Self.configuration(reconnect: true))
        defer { bus.close() }
        // Far Away is paired and trusted but out of range: tried, with backoff, until it returns.
        try await Task.sleep(for: .seconds(1))
        #expect(await manager.devices.first { $0.name == "Far Away" }?.connected == false)
        try bluez.control("SetInRange", "string:AA:BB:CC:00:00:05", "boolean:true")
        #expect(await Self.eventually { await manager.devices.first { $0.name == "Far Away" }?.connected == true })
        // Switched off and on again: back by itself.
        try bluez.control("DropConnection", "string:AA:BB:CC:00:00:05")
        #expect(await Self.eventually { await manager.devices.first { $0.name == "Far Away" }?.connected == false })
        try bluez.control("SetInRange", "string:AA:BB:CC:00:00:05", "boolean:true")
        #expect(await Self.eventually { await manager.devices.first { $0.name == "Far Away" }?.connected == true })
        // Disconnected by the user: it stays disconnected.
        try await manager.disconnect("Far Away")
        try await Task.sleep(for: .seconds(1.5))
        #expect(await manager.devices.first { $0.name == "Far Away" }?.connected == false)
        let attempts = try bluez.calls().filter { $0.hasPrefix("Device1.Connect AA:BB:CC:00:00:05") && $0.contains("start=") }
        #expect(attempts.count >= 3 && attempts.count <= 12, "\(attempts.count) attempts")
    }

    static func eventually(seconds: Double = 8, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
