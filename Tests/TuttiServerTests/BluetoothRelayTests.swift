import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// Bluetooth end to end: the server's API and `tutti ctl bt` → the server → a real
/// `tutti speaker --bluetooth` process → D-Bus (a real dbus-daemon) → the BlueZ stand-in.
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"))
struct BluetoothRelayTests {
    static let house = """
        {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:01", "op_ms": 150}],
         "devices": [
           {"address": "AA:BB:CC:00:00:01", "name": "JBL Flip 5", "rssi": -50, "delay": 1800},
           {"address": "AA:BB:CC:00:00:02", "name": "Bose SoundLink", "codec": 2},
           {"address": "AA:BB:CC:00:00:04", "name": "Grumpy Speaker", "behaviour": "reject_pairing"},
           {"address": "AA:BB:CC:00:00:05", "name": "Far Away", "in_range": false, "paired": true, "trusted": true}
         ]}
        """

    static func speaker(_ stream: Int, id: String, bus: PrivateBus) throws -> ChildProcess {
        try ChildProcess(
            Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", id, "--output", "null", "--bluetooth", "--bluetooth-limit", "2"],
            environment: bus.environment)
    }

    static func ctl(_ port: Int, _ arguments: [String]) throws -> (code: Int32?, output: String, error: String) {
        let process = try ChildProcess(Peers.tutti!, ["ctl", "--server", "127.0.0.1:\(port)"] + arguments)
        let code = process.waitForExit(seconds: 30)
        _ = process.waitForOutputEnd(seconds: 5)
        return (code, String(decoding: process.output, as: UTF8.self), process.errorText)
    }

    static func bluetoothError(_ response: JSON) -> String? {
        guard response["error"]?["code"]?.intValue == -32007 else { return nil }
        return response["error"]?["data"]?["code"]?.stringValue
    }

    @Test func theAPIAndCtlManageAHostsBluetoothSpeakers() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            // Before any Bluetooth host: a clear "not supported", naming what would help.
            let none = try rpc.call("Bluetooth.GetStatus")
            #expect(none["error"]?["code"]?.intValue == -32005)
            #expect(none["error"]?["data"]?.stringValue?.contains("tutti speaker --bluetooth") == true)

            let box = try Self.speaker(ports.stream, id: "living-room-box", bus: bluez.bus)
            defer { box.stop() }
            let status = try ControlAPIServerTests.waitForSpeakers(["living-room-box"], rpc)
            let client = ControlAPIServerTests.clients(status).first { $0["id"] == "living-room-box" }
            #expect(client?["capabilities"]?.arrayValue?.contains("bluetooth") == true, "\(client?.text ?? "")")

            let adapters = try rpc.result("Bluetooth.GetStatus", within: 15)["adapters"]?.arrayValue ?? []
            #expect(adapters.first?["name"] == "hci0" && adapters.first?["limit"] == 2 && adapters.first?["host"] == "living-room-box")

            let found = try rpc.result("Bluetooth.Scan", ["seconds": 1], within: 20)["devices"]?.arrayValue ?? []
            let names = Set(found.compactMap { $0["name"]?.stringValue })
            #expect(names.isSuperset(of: ["JBL Flip 5", "Bose SoundLink"]), "\(found)")

            let paired = try rpc.result("Bluetooth.Pair", ["device": "jbl flip 5"], within: 20)
            #expect(paired["device"]?["connected"] == true && paired["device"]?["paired"] == true, "\(paired.text)")
            #expect(paired["device"]?["hostName"] == "living-room-box")

            // Every failure says what it is.
            #expect(Self.bluetoothError(try rpc.call("Bluetooth.Pair", ["device": "Grumpy Speaker"], within: 20)) == "pairing-rejected")
            #expect(Self.bluetoothError(try rpc.call("Bluetooth.Connect", ["device": "Far Away"], within: 20)) == "out-of-range")
            #expect(Self.bluetoothError(try rpc.call("Bluetooth.Connect", ["device": "Nobody"], within: 20)) == "unknown-device")
            #expect(try rpc.call("Bluetooth.Connect", ["device": "JBL Flip 5", "host": "kitchen"])["error"]?["code"]?.intValue == -32602)
            #expect(try rpc.call("Bluetooth.ForgetAll")["error"]?["code"]?.intValue == -32602)

            // tutti ctl bt: the table, a second pairing, the adapter's limit, forgetting.
            let table = try Self.ctl(ports.control, ["bt"])
            #expect(table.code == 0, "\(table.error)")
            #expect(table.output.contains("JBL Flip 5") && table.output.contains("connected") && table.output.contains("180.0 ms"), "\(table.output)")
            #expect(table.output.contains("1 of 2"), "\(table.output)")
            let bose = try Self.ctl(ports.control, ["bt", "pair", "Bose SoundLink"])
            #expect(bose.code == 0 && bose.output.contains("Bose SoundLink: paired and connected"), "\(bose)")
            try bluez.control("SetInRange", "string:AA:BB:CC:00:00:05", "boolean:true")
            let third = try Self.ctl(ports.control, ["bt", "connect", "Far Away"])
            #expect(third.code == 1 && third.error.contains("already plays to 2 speakers"), "\(third)")
            let refused = try Self.ctl(ports.control, ["bt", "pair", "Grumpy Speaker"])
            #expect(refused.code == 1 && refused.error.contains("refused pairing"), "\(refused)")
            // Sentences and routines reach the same speakers.
            #expect(try Self.ctl(ports.control, ["say", "disconnect the jbl"]).code == 0)
            #expect(try rpc.result("Bluetooth.GetStatus", within: 15)["devices"]?.arrayValue?.first { $0["name"] == "JBL Flip 5" }?["connected"] == false)
            let reconnected = try Self.ctl(ports.control, ["say", "connect the jbl"])
            #expect(reconnected.code == 0 && reconnected.output.contains("connect the Bluetooth speaker"), "\(reconnected)")
            #expect(try rpc.result("Bluetooth.GetStatus", within: 15)["devices"]?.arrayValue?.first { $0["name"] == "JBL Flip 5" }?["connected"] == true)
            let unconfirmed = try Self.ctl(ports.control, ["bt", "forget-all"])
            #expect(unconfirmed.code == 64, "\(unconfirmed)")
            #expect(try Self.ctl(ports.control, ["bt", "disconnect", "bose soundlink"]).code == 0)
            let forgotten = try Self.ctl(ports.control, ["bt", "forget-all", "--yes"])
            #expect(forgotten.code == 0 && forgotten.output.contains("AA:BB:CC:00:00:01"), "\(forgotten)")
            #expect(try rpc.result("Bluetooth.GetStatus", within: 15)["devices"]?.arrayValue?.contains { $0["paired"] == true } == false)
        }
    }

    @Test func aHostWithoutBlueZIsListedWithItsReasonBesideOneThatWorks() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let empty = try PrivateBus.start()
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let working = try Self.speaker(ports.stream, id: "box-a", bus: bluez.bus)
            let broken = try Self.speaker(ports.stream, id: "box-b", bus: empty)
            defer { working.stop(); broken.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["box-a", "box-b"], rpc)
            let status = try rpc.result("Bluetooth.GetStatus", within: 20)
            #expect(status["adapters"]?.arrayValue?.count == 1)
            let failures = status["failures"]?.arrayValue ?? []
            #expect(failures.count == 1 && failures.first?["host"] == "box-b")
            #expect(failures.first?["error"]?["data"]?["code"] == "no-adapter", "\(status.text)")
            // Naming the broken host gets its error as the answer.
            #expect(Self.bluetoothError(try rpc.call("Bluetooth.GetStatus", ["host": "box-b"], within: 20)) == "no-adapter")
            // A host that goes away mid-request fails the request at once, not at the timeout.
            let scanning = Task.detached { try rpc.call("Bluetooth.Scan", ["seconds": 30, "host": "box-a"], within: 40) }
            try await Task.sleep(for: .seconds(1))
            working.signal(SIGKILL)
            let answer = try await scanning.value
            #expect(answer["error"]?["data"]?.stringValue?.contains("disconnected before answering") == true, "\(answer.text)")
        }
    }
}
