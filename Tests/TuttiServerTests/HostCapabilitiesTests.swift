import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// The capability table through the API and `tutti ctl speakers --capabilities`: real speaker processes — one
/// managing Bluetooth (the BlueZ stand-in on a private bus) with a PulseAudio server whose null
/// sinks stand in for its sound devices, one plain — each report what their host can do.
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"),
    .enabled(if: which("pulseaudio") != nil, "needs pulseaudio (Debian: pulseaudio)"))
struct HostCapabilitiesTests {
    static let house = """
        {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:01", "op_ms": 100},
                      {"name": "hci1", "address": "00:1A:7D:DA:71:02", "op_ms": 100, "receive": true}],
         "devices": [{"address": "AA:BB:CC:00:00:01", "name": "JBL Flip 5", "paired": true, "trusted": true}]}
        """

    static func entry(_ table: JSON, _ id: String) -> JSON? {
        table["speakers"]?.arrayValue?.first { $0["id"]?.stringValue == id }
    }

    @Test func everySpeakerHostSaysWhatItCanDo() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let pulse = try PrivatePulseServer(sinks: ["bt_AA_BB_CC_00_00_01", "line_out"])
        defer { pulse.stop() }
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let box = try ChildProcess(
                Peers.tutti!, [
                    "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "box", "--output", "null", "--bluetooth",
                    "--bluetooth-sink", "bt_{address}", "--bluetooth-limit", "3",
                ], environment: bluez.bus.environment.merging(pulse.environment) { $1 })
            defer { box.stop() }
            let kitchen = try ChildProcess(
                Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "kitchen", "--output", "null"],
                environment: pulse.environment)
            defer { kitchen.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["box", "kitchen"], rpc)
            _ = try rpc.result("Bluetooth.Connect", ["device": "JBL Flip 5"], within: 20)
            _ = try ControlAPIServerTests.waitForSpeakers(["AA:BB:CC:00:00:01"], rpc)

            let table = try rpc.result("Server.GetCapabilities", within: 15)
            // The Bluetooth host: its adapters, what each can do, the speaker it plays to.
            let boxTable = try #require(Self.entry(table, "box")?["capabilities"], "\(table.text)")
            let adapters = boxTable["bluetooth"]?["adapters"]?.arrayValue ?? []
            #expect(adapters.map { $0["name"]?.stringValue ?? "" } == ["hci0", "hci1"], "\(boxTable.text)")
            #expect(adapters.allSatisfy { $0["bluez"] == "5.66" && $0["send"] == true && $0["limit"] == 3 }, "\(adapters)")
            #expect(adapters.map { $0["receive"] } == [false, true])
            #expect(adapters[0]["speakers"]?.arrayValue?.map { $0["name"] } == ["JBL Flip 5"], "\(adapters)")
            // Its sound server's devices, each with the URI that uses it.
            let outputs = boxTable["outputs"]?.arrayValue ?? []
            #expect(outputs.contains { $0["uri"] == "pulse:line_out" && $0["rate"] == 48_000 }, "\(outputs)")
            let inputs = boxTable["inputs"]?.arrayValue ?? []
            #expect(inputs.contains { $0["uri"] == "pulse:///line_out.monitor" && $0["monitor"] == true }, "\(inputs)")
            #expect(boxTable["stereoPair"] == true && boxTable["output"] == "null")

            // A plain speaker: no Bluetooth managed, and it says how to get it.
            let kitchenTable = try #require(Self.entry(table, "kitchen")?["capabilities"])
            #expect(kitchenTable["bluetooth"]?["code"] == "not-managed")
            #expect(kitchenTable["outputs"]?.arrayValue?.contains { $0["uri"] == "pulse:line_out" } == true)

            // The Bluetooth speaker itself: its own output and link.
            let jbl = try rpc.result("Client.GetCapabilities", ["id": "AA:BB:CC:00:00:01"], within: 15)["speaker"]
            #expect(jbl?["capabilities"]?["bluetooth"]?["speaker"]?["address"] == "AA:BB:CC:00:00:01", "\(jbl?.text ?? "")")
            #expect(jbl?["capabilities"]?["output"]?.stringValue?.contains("bt_AA_BB_CC_00_00_01") == true)
            #expect(jbl?["playing"]?["state"] == "playing", "\(jbl?.text ?? "")")
            // …and its sync, as it reports it.
            #expect(waitUntil(seconds: 5) {
                let entry = (try? rpc.result("Client.GetCapabilities", ["id": "AA:BB:CC:00:00:01"], within: 15))?["speaker"]
                return entry?["sync"]?["locked"] == true
            })

            // The CLI's table.
            let ctl = try BluetoothRelayTests.ctl(ports.control, ["speakers", "--capabilities"])
            #expect(ctl.code == 0, "\(ctl.error)")
            let boxRow = ctl.output.split(separator: "\n").first { $0.hasPrefix("box ") }.map(String.init) ?? ""
            #expect(boxRow.contains("hci0 BlueZ 5.66 send 1/3 connected; hci1 BlueZ 5.66 send+receive 0/3 connected"), "\(ctl.output)")
            #expect(ctl.output.contains("speaker AA:BB:CC:00:00:01"), "\(ctl.output)")
            let devices = try BluetoothRelayTests.ctl(ports.control, ["speakers", "--capabilities", "--devices", "kitchen"])
            #expect(devices.output.contains("pulse:///line_out.monitor") && !devices.output.contains("box"), "\(devices.output)")

            // Gone: the table says so rather than leaving it out; an unknown speaker is an error.
            kitchen.stop()
            let gone = waitUntil(seconds: 8) {
                Self.entry((try? rpc.result("Server.GetCapabilities", within: 15)) ?? .null, "kitchen")?["unavailable"]?["code"] == "disconnected"
            }
            #expect(gone)
            let list = try BluetoothRelayTests.ctl(ports.control, ["speakers"])
            #expect(list.output.contains("kitchen") && list.output.contains("offline") && list.output.contains("JBL Flip 5"), "\(list.output)")
            let unknown = try rpc.call("Client.GetCapabilities", ["id": "nobody"])
            #expect(unknown["error"]?["code"] != nil, "\(unknown.text)")
            let unknownCtl = try BluetoothRelayTests.ctl(ports.control, ["speakers", "nobody"])
            #expect(unknownCtl.code == 2, "\(unknownCtl.output) \(unknownCtl.error)")
        }
    }

    @Test(.enabled(if: Peers.snapclient != nil, "needs snapclient (apt-get install snapclient)"))
    func aSnapclientIsListedAsNotReporting() async throws {
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let client = try ChildProcess(Peers.snapclient!, ["-h", "127.0.0.1", "-p", "\(ports.stream)", "--hostID", "snap", "--player", "file:filename=null"])
            defer { client.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["snap"], rpc)
            let entry = try rpc.result("Client.GetCapabilities", ["id": "snap"], within: 15)["speaker"]
            #expect(entry?["unavailable"]?["code"] == "not-reported", "\(entry?.text ?? "")")
            #expect(entry?["unavailable"]?["message"]?.stringValue?.contains("does not report") == true, "\(entry?.text ?? "")")
            #expect(entry?["capabilities"] == nil)
        }
    }
}
