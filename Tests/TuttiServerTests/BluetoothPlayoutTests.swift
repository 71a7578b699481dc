import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport
import Logging
@testable import TuttiCLI

/// Connected Bluetooth speakers play as speakers of their own from one `tutti speaker
/// --bluetooth` host: PulseAudio null sinks stand in for their sinks (what PulseAudio makes
/// for a connected speaker), the BlueZ stand-in for the speakers themselves.
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"),
    .enabled(if: which("pulseaudio") != nil && which("parec") != nil, "needs pulseaudio and parec (Debian: pulseaudio, pulseaudio-utils)"))
struct BluetoothPlayoutTests {
    static let house = """
        {"adapters": [{"name": "hci0", "op_ms": 100}],
         "devices": [
           {"address": "AA:BB:CC:00:00:01", "name": "JBL Flip 5", "paired": true, "trusted": true, "delay": 1800},
           {"address": "AA:BB:CC:00:00:02", "name": "Bose SoundLink", "paired": true, "trusted": true},
           {"address": "AA:BB:CC:00:00:03", "name": "UE Boom", "paired": true, "trusted": true}
         ]}
        """

    /// The RMS level (0…1) of what a sink played in the last 0.4 s of about a second of
    /// recording its monitor (parec starts late: what it has before is not used).
    static func level(of sink: String, _ pulse: PrivatePulseServer) throws -> Double {
        let record = try ChildProcess(which("parec")!, [
            "--server=\(pulse.address)", "--device=\(sink).monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=50",
        ])
        let second = 48000 * 4
        _ = waitUntil(seconds: 5) { record.output.count >= second }
        record.stop()
        _ = record.waitForOutputEnd(seconds: 5)
        let bytes = record.output
        let window = 48000 * 4 * 4 / 10
        guard bytes.count >= window else { return 0 }
        var sum = 0.0
        for index in stride(from: bytes.count - window, to: bytes.count - 1, by: 2) {
            let sample = Double(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)) / 32768
            sum += sample * sample
        }
        return (sum / Double(window / 2)).squareRoot()
    }

    @Test func eachConnectedBluetoothSpeakerIsASpeakerOfItsOwnThatComesAndGoes() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let pulse = try PrivatePulseServer(sinks: ["bt_AA_BB_CC_00_00_01", "bt_AA_BB_CC_00_00_02"])
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let host = try ChildProcess(
                Peers.tutti!, [
                    "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "box", "--output", "null", "--bluetooth",
                    "--bluetooth-sink", "bt_{address}", "--log-level", "info",
                ], environment: bluez.bus.environment.merging(pulse.environment) { $1 })
            defer { host.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["box"], rpc)
            _ = try rpc.result("Bluetooth.Connect", ["device": "JBL Flip 5"], within: 20)
            _ = try rpc.result("Bluetooth.Connect", ["device": "Bose SoundLink"], within: 20)

            // Each is a speaker of its own, by its address, named as it calls itself.
            let status = try ControlAPIServerTests.waitForSpeakers(["box", "AA:BB:CC:00:00:01", "AA:BB:CC:00:00:02"], rpc)
            let jbl = ControlAPIServerTests.clients(status).first { $0["id"] == "AA:BB:CC:00:00:01" }
            #expect(jbl?["host"]?["name"] == "JBL Flip 5")
            // …and each plays into its own sink.
            let jblLevel = try Self.level(of: "bt_AA_BB_CC_00_00_01", pulse)
            let boseLevel = try Self.level(of: "bt_AA_BB_CC_00_00_02", pulse)
            let clients = ControlAPIServerTests.clients(try rpc.result("Server.GetStatus")).map(\.text)
            #expect(jblLevel > 0.05 && boseLevel > 0.05, "levels \(jblLevel), \(boseLevel): \(clients)")
            // Its volume is its own: muted, its sink goes silent while the other plays on.
            _ = try rpc.result("Client.SetVolume", ["id": "AA:BB:CC:00:00:02", "volume": ["muted": true]])
            try await Task.sleep(for: .seconds(1.5))
            #expect(try Self.level(of: "bt_AA_BB_CC_00_00_02", pulse) < 0.001)
            #expect(try Self.level(of: "bt_AA_BB_CC_00_00_01", pulse) > 0.05)

            // The speaker's reported delay is added (PulseAudio leaves it out), and followed.
            #expect(host.errorText.contains("JBL Flip 5 plays as speaker 'AA:BB:CC:00:00:01' on pulse:bt_AA_BB_CC_00_00_01"), "\(host.errorText)")
            // (The transport, which carries the delay, may show up just after the connection.)
            #expect(waitUntil(seconds: 5) {
                host.errorText.contains("JBL Flip 5 reports 180.0 ms of delay") || host.errorText.contains("pulse:bt_AA_BB_CC_00_00_01, 180 ms of reported delay added")
            }, "\(host.errorText)")
            try bluez.control("SetDelay", "string:AA:BB:CC:00:00:01", "uint16:1950")
            #expect(waitUntil(seconds: 5) { host.errorText.contains("JBL Flip 5 reports 195.0 ms of delay") }, "\(host.errorText)")

            // Connected without a sink for it: not played, and the log says why.
            _ = try rpc.result("Bluetooth.Connect", ["device": "UE Boom"], within: 20)
            #expect(waitUntil(seconds: 5) { host.errorText.contains("UE Boom is connected but cannot play: no sound-server sink for it (bt_AA_BB_CC_00_00_03)") }, "\(host.errorText)")

            // Gone: switched off, its speaker disconnects from the server; back on, it returns.
            try bluez.control("DropConnection", "string:AA:BB:CC:00:00:01")
            let left = waitUntil(seconds: 8) {
                let clients = ControlAPIServerTests.clients((try? rpc.result("Server.GetStatus")) ?? .null)
                return clients.first { $0["id"] == "AA:BB:CC:00:00:01" }?["connected"] == false
            }
            #expect(left)
            try bluez.control("SetInRange", "string:AA:BB:CC:00:00:01", "boolean:true")
            _ = try ControlAPIServerTests.waitForSpeakers(["AA:BB:CC:00:00:01"], rpc, seconds: 15)
        }
    }
}

/// Two "Bluetooth speakers" with 180 and 250 ms of delay and a wired one, from outside: what
/// their sinks play, recorded and timestamped by this process (`BluetoothSyncRun`).
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: BluetoothSyncRun.missing == nil, "needs dbus-daemon, python3-dbus/gi, pulseaudio and parec"))
struct BluetoothSyncTests {
    @Test func bluetoothSpeakersWithDifferentDelaysSoundWithAWiredOne() async throws {
        // p99 would be the second-worst of ~120 windows, and one hiccup of parec on a busy
        // machine moves a few of them by 10–35 ms: p50 is the sharp check, and most windows
        // within 10 ms the coarse one. The skew still eases from 3–8 ms toward 1 ms over the
        // run (the speakers follow PulseAudio's latency reports as they settle), so p50 was
        // 3.4 ms in one run of ~12.
        try await check(BluetoothSyncRun(seconds: 20, settleSeconds: 8), p50: 5_000, within: 10_000, share: 0.9)
    }

    /// The same with PipeWire's PulseAudio layer as the sound server.
    @Test(.enabled(if: PrivatePipeWireServer.missing == nil, "needs PipeWire (Debian: pipewire, wireplumber, pipewire-pulse)"))
    func theSameOnPipeWire() async throws {
        // PipeWire's record path is three times PulseAudio's (docs/benchmarks.md) and moves
        // more on a busy machine: single windows jump by 10–60 ms (one player at a time, back
        // within a few windows — most likely the capture, not proven; 4–8 % of windows in some
        // runs, so p99 is one of them), and its sinks' reported latency settles over ~12 s, which the
        // speakers follow at 500 ppm. So: later, and the share of windows within 10 ms rather
        // than p99 — still far from the 70–250 ms that no compensation would leave.
        try await check(BluetoothSyncRun(seconds: 24, settleSeconds: 12, pipeWire: true), p50: 6_000, within: 10_000, share: 0.85)
    }

    /// Skew p50 below `p50`, and at least `share` of the settled windows below `bound`.
    private func check(_ run: BluetoothSyncRun, p50: Double, within bound: Double, share: Double) async throws {
        let result = try await run.run(executable: Peers.tutti!, logger: Logger(label: "test"))
        let skew = try #require(result.compensation.skew, "nothing compared: \(result.compensation.players.map { "\($0.name): \($0.measuredWindows) measured, \($0.silentWindows) silent, \($0.rejectedWindows) rejected" })")
        let settled = result.compensation.skewSeries.filter { $0.seconds >= run.settleSeconds }.map(\.microseconds)
        let series = settled.map { String(Int($0)) }.joined(separator: " ")
        // Without compensation they would be 180 and 250 ms apart; with it, within a few ms as
        // measured through parec (whose own timing limits what this can see: docs/benchmarks.md).
        #expect(skew.p50 < p50, "skew p50 \(skew.p50) µs: \(series)")
        let inside = Double(settled.filter { $0 < bound }.count) / Double(max(settled.count, 1))
        #expect(inside >= share, "\(Int(inside * 100)) % of windows within \(Int(bound)) µs: \(series)")
        #expect(result.compensation.players.allSatisfy { $0.measuredWindows > 50 })
    }
}
