import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// No silent exclusions: every Bluetooth speaker of a host that does not play is reported with
/// its reason — in the Client objects, `tutti ctl status`, and a notification when it changes.
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"),
    .enabled(if: which("pulseaudio") != nil, "needs pulseaudio (Debian: pulseaudio)"))
struct BluetoothExclusionTests {
    // JBL and UE reconnect by themselves (paired, trusted, in range); UE has no sink; Far Away
    // is out of range; Bose and Sony are paired but not trusted, so they wait to be asked; Old
    // Speaker (on the second adapter) connects but shares no codec with the sound server.
    static let house = """
        {"adapters": [{"name": "hci0", "op_ms": 80}, {"name": "hci1", "op_ms": 80}],
         "devices": [
           {"address": "AA:BB:CC:00:00:01", "name": "JBL Flip 5", "paired": true, "trusted": true, "delay": 1800},
           {"address": "AA:BB:CC:00:00:02", "name": "Bose SoundLink", "paired": true, "trusted": false},
           {"address": "AA:BB:CC:00:00:03", "name": "UE Boom", "paired": true, "trusted": true},
           {"address": "AA:BB:CC:00:00:05", "name": "Far Away", "paired": true, "trusted": true, "in_range": false},
           {"address": "AA:BB:CC:00:00:06", "name": "Sony SRS", "paired": true, "trusted": false},
           {"adapter": "hci1", "address": "AA:BB:CC:00:00:07", "name": "Old Speaker", "paired": true, "trusted": true, "transport": false}
         ]}
        """

    static func playing(_ id: String, _ rpc: RPCClient) -> JSON? {
        let clients = ControlAPIServerTests.clients((try? rpc.result("Server.GetStatus")) ?? .null)
        return clients.first { $0["id"]?.stringValue == id }?["playing"]
    }

    static func waitForCode(_ id: String, _ code: String, _ rpc: RPCClient) -> JSON? {
        var last: JSON?
        let found = waitUntil(seconds: 15) {
            last = playing(id, rpc)
            return last?["code"]?.stringValue == code
        }
        return found ? last : nil
    }

    @Test func everySpeakerThatDoesNotPlaySaysWhy() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let pulse = try PrivatePulseServer(sinks: ["bt_AA_BB_CC_00_00_01", "bt_AA_BB_CC_00_00_02"])
        // A 200 ms buffer: too little for the JBL's 180 ms of delay (plus the output's own).
        try await withServerPorts(configure: { $0.bufferMs = 200 }) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            _ = try rpc.result("Server.GetStatus")  // notifications come after a first answer
            let host = try ChildProcess(
                Peers.tutti!, [
                    "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "box", "--output", "null", "--bluetooth",
                    "--bluetooth-sink", "bt_{address}", "--bluetooth-limit", "3",
                ], environment: bluez.bus.environment.merging(pulse.environment) { $1 })
            defer { host.stop() }

            // Out of range: a speaker the server never saw is listed, with the reason.
            let far = try #require(Self.waitForCode("AA:BB:CC:00:00:05", "out-of-range", rpc), "\(host.errorText)")
            #expect(far["state"] == "excluded" && far["reason"]?.stringValue?.contains("out of range") == true)
            // Connected, but the sound server has no sink for it.
            let ue = try #require(Self.waitForCode("AA:BB:CC:00:00:03", "no-sink", rpc), "\(host.errorText)")
            #expect(ue["reason"]?.stringValue?.contains("bt_AA_BB_CC_00_00_03") == true)
            // Connected, but no audio transport comes up: no codec in common.
            let old = try #require(Self.waitForCode("AA:BB:CC:00:00:07", "codec-not-supported", rpc), "\(host.errorText)")
            #expect(old["reason"]?.stringValue?.contains("share no codec") == true, "\(old)")
            // Its delay needs more buffer than the group has: it says which would work.
            let jbl = try #require(Self.waitForCode("AA:BB:CC:00:00:01", "delay-too-large", rpc), "\(host.errorText)")
            #expect(jbl["reason"]?.stringValue?.contains("a buffer of 400 ms would work") == true, "\(jbl)")
            // Beyond the adapter's limit (JBL, UE and then Bose hold its three places).
            _ = try rpc.result("Bluetooth.Connect", ["device": "Bose SoundLink"], within: 20)
            #expect(Self.waitForCode("AA:BB:CC:00:00:02", "playing", rpc) != nil)
            let refused = try rpc.call("Bluetooth.Connect", ["device": "Sony SRS"], within: 20)
            #expect(refused["error"]?["data"]?["code"] == "adapter-limit")
            let sony = try #require(Self.waitForCode("AA:BB:CC:00:00:06", "adapter-limit", rpc))
            #expect(sony["reason"]?.stringValue?.contains("already plays to 3 speakers") == true)
            #expect(rpc.notification("Client.OnPlayingChanged", within: 5) { $0["id"] == "AA:BB:CC:00:00:06" && $0["playing"]?["code"] == "adapter-limit" } != nil)

            // Disconnected on request.
            #expect(try CtlProcessTests.ctl(ports.control, ["bt", "disconnect", "UE Boom"]).code == 0)
            #expect(Self.waitForCode("AA:BB:CC:00:00:03", "disconnected", rpc)?["reason"]?.stringValue?.contains("on request") == true)
            // And in tutti ctl status, each with its reason.
            let status = try CtlProcessTests.ctl(ports.control, ["status"])
            #expect(status.output.contains("excluded: disconnected on request"), "\(status.output)")
            #expect(status.output.contains("excluded: its delay (180 ms) is more than the group's 200 ms buffer allows"), "\(status.output)")
            // (Far Away: out of range, or — once the adapter is full — its limit, whichever its last try met.)
            #expect(status.output.contains("Far Away  AA:BB:CC:00:00:05  100  0 ms     stereo   excluded: "), "\(status.output)")

            // When the host goes, what it said goes too: its speakers are simply offline.
            host.stop()
            #expect(Self.waitForCode("AA:BB:CC:00:00:05", "disconnected", rpc)?["state"] == "offline")
        }
    }
}
