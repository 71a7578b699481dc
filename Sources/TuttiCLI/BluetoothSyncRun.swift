import Foundation
import Logging
import TuttiControl
import TuttiHarness
import TuttiMeasure
import TuttiServer
import TuttiSources

/// Bluetooth speakers in sync, measured from outside: one `tutti speaker --bluetooth` host
/// plays to two "Bluetooth speakers" — PulseAudio null sinks standing for their sinks, the BlueZ
/// stand-in reporting 180 and 250 ms of delay for them (or PipeWire's, with `pipeWire`) — and to its own pipe output, in one
/// group (party mode) with a plain `tutti speaker` on a third null sink, the reference.
///
/// What each sink plays is recorded from its monitor by `parec` and timestamped on arrival in
/// this process. A real Bluetooth speaker sounds its reported delay after its sink plays, so a
/// Bluetooth capture's "lead" is that delay. The three recordings share one record path, whose
/// latency cancels among them: their skew is how far the Bluetooth speakers would sound from a
/// wired speaker. The reference against the pipe output shows that record path (plus PulseAudio's
/// own latency report) as an offset, measured rather than assumed.
///
/// With `delayChange`, the first speaker's reported delay changes while playing (a Bluetooth
/// speaker's delay wanders); the playout slews to it (500 ppm), and the same analysis is run
/// again once the slew is over, with the new delay as its lead.
struct BluetoothSyncRun {
    var seconds: Double = 20
    var settleSeconds: Double = 8
    /// When (seconds after the start) and to what (ms) the first speaker's reported delay changes.
    var delayChange: (atSeconds: Double, milliseconds: Double)?
    /// A real snapclient (this path) on a Bluetooth speaker's sink as the peer: it cannot know
    /// the speaker's delay, so it gets the first speaker's as `--latency` by hand, as a user
    /// would; its speaker's delay changes with the first one's.
    var snapclient: String?
    /// The sound server the sinks live on: PipeWire (its PulseAudio layer) rather than PulseAudio.
    var pipeWire = false

    static let delays: [(address: String, name: String, milliseconds: Double)] = [
        ("AA:BB:CC:00:00:01", "JBL Flip 5", 180), ("AA:BB:CC:00:00:02", "Bose SoundLink", 250),
    ]

    struct Result {
        /// The two Bluetooth speakers and the reference, as heard through one record path.
        var compensation: SyncReport
        /// The same after the first speaker's delay changed and the slew is over.
        var afterChange: SyncReport?
        /// The reference against the pipe output: the record path's offset.
        var recordPath: SyncReport
        /// The snapclient against the reference, before and after the change.
        var snapclient: SyncReport?
        var snapclientAfterChange: SyncReport?
    }

    /// Why it cannot run here (a missing peer), or nil.
    static var missing: String? { missing(pipeWire: false) }

    static func missing(pipeWire: Bool) -> String? {
        if let missing = FakeBlueZ.missing { return missing }
        if which("parec") == nil { return "needs parec (Debian: pulseaudio-utils)" }
        if pipeWire { return PrivatePipeWireServer.missing }
        if which("pulseaudio") == nil { return "needs pulseaudio (Debian: pulseaudio)" }
        return nil
    }

    static func sink(_ address: String) -> String { "bt_" + address.split(separator: ":").joined(separator: "_") }

    func run(executable: String, logger: Logger) async throws -> Result {
        let devices = Self.delays.map { #"{"address": "\#($0.address)", "name": "\#($0.name)", "paired": true, "trusted": true, "delay": \#(Int($0.milliseconds * 10))}"# }
        let bluez = try FakeBlueZ(config: #"{"adapters": [{"name": "hci0", "op_ms": 100}], "devices": [\#(devices.joined(separator: ", "))]}"#)
        defer { bluez.stop() }
        let sinks = Self.delays.map { Self.sink($0.address) } + ["reference", "bt_snapclient"]
        let pulse: any PrivateSoundServer = pipeWire ? try PrivatePipeWireServer(sinks: sinks) : try PrivatePulseServer(sinks: sinks)
        defer { pulse.stop() }
        let configuration = ServerConfiguration(
            sources: [try SourceURI(parsing: "tone://?name=music&kind=music")], bufferMs: 1000, bindAddress: "127.0.0.1", streamPort: 0, controlPort: 0, httpPort: 0)

        return try await TuttiServer.withRunningServer(configuration, logger: logger) { ports in
            let environment = bluez.bus.environment.merging(pulse.environment) { $1 }
            let startedAt = monotonicNanos()
            let host = try ChildProcess(executable, [
                "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "host", "--output", "pipe:stdout", "--bluetooth",
                "--bluetooth-sink", "bt_{address}", "--log-level", "notice",
            ], environment: environment)
            let reference = try ChildProcess(executable, [
                "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "reference", "--output", "pulse:reference", "--log-level", "notice",
            ], environment: environment)
            let peer = try snapclient.map { path in
                try ChildProcess(path, [
                    "-h", "127.0.0.1", "-p", "\(ports.stream)", "--hostID", "snapclient", "--player", "pulse", "-s", "bt_snapclient",
                    "--latency", "\(Int(Self.delays[0].milliseconds))", "--logsink", "stderr", "--logfilter", "*:error",
                ], environment: environment)
            }
            defer { host.stop(); reference.stop(); peer?.stop() }
            // Everything in one group, once the Bluetooth speakers have connected by themselves
            // (paired and trusted: the host reconnects them).
            try await ControlConnection.with(host: "127.0.0.1", port: ports.control, token: nil) { connection in
                let wanted: Set<String> = Set(["host", "reference"] + Self.delays.map(\.address) + (peer == nil ? [] : ["snapclient"]))
                for _ in 0..<200 {
                    if wanted.isSubset(of: StatusSnapshot(try await connection.call("Server.GetStatus")).connectedIDs) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await connection.call("Server.SetPartyMode", ["on": true])
            }
            let recorders = try (Self.delays.map { Self.sink($0.address) } + ["reference", "bt_snapclient"]).map { sink in
                try ChildProcess(which("parec")!, [
                    "--server=\(pulse.address)", "--device=\(sink).monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=10",
                ])
            }
            defer { recorders.forEach { $0.stop() } }
            if let change = delayChange {
                try await Task.sleep(for: .seconds(max(0, change.atSeconds - Double(monotonicNanos() - startedAt) / 1e9)))
                try bluez.control("SetDelay", "string:\(Self.delays[0].address)", "uint16:\(Int(change.milliseconds * 10))")
            }
            try await Task.sleep(for: .seconds(max(1, seconds - Double(monotonicNanos() - startedAt) / 1e9)))
            recorders.forEach { $0.stop() }
            host.stop()
            reference.stop()
            peer?.stop()

            func capture(_ name: String, _ process: ChildProcess, leadMilliseconds: Double) -> PlayerCapture {
                PlayerCapture(name: name, reads: process.reads.map { CaptureRead(arrival: $0.arrival, bytes: $0.bytes) }, leadNanoseconds: Int64(leadMilliseconds * 1e6))
            }
            let referenceCapture = capture("reference (wired, null sink)", recorders[2], leadMilliseconds: 0)
            func bluetooth(firstDelay: Double) -> [PlayerCapture] {
                [capture("\(Self.delays[0].name) (\(Int(firstDelay)) ms)", recorders[0], leadMilliseconds: firstDelay),
                 capture("\(Self.delays[1].name) (\(Int(Self.delays[1].milliseconds)) ms)", recorders[1], leadMilliseconds: Self.delays[1].milliseconds)]
            }
            let settle = startedAt + Int64(settleSeconds * 1e9)
            let changeAt = delayChange.map { startedAt + Int64($0.atSeconds * 1e9) } ?? Int64.max
            var options = SyncAnalysisOptions()
            options.windowSpacingNanoseconds = 100_000_000
            // Before the change only (the whole run without one).
            var before = bluetooth(firstDelay: Self.delays[0].milliseconds) + [referenceCapture]
            if delayChange != nil { before = before.map { Self.truncated($0, before: changeAt) } }
            let compensation = SyncAnalysis.analyze(before, startedAt: startedAt, settleAfter: settle, options: options)
            var afterChange: SyncReport?
            if let change = delayChange {
                // 500 ppm: the slew takes (change / 0.0005) seconds; judge after it, plus a second.
                let slew = abs(change.milliseconds - Self.delays[0].milliseconds) / 1000 / 500e-6 + 1
                let after = startedAt + Int64((change.atSeconds + slew) * 1e9)
                afterChange = SyncAnalysis.analyze(
                    bluetooth(firstDelay: change.milliseconds) + [referenceCapture], startedAt: startedAt, settleAfter: after, options: options)
            }
            let recordPath = SyncAnalysis.analyze(
                [capture("pipe (host)", host, leadMilliseconds: 5), referenceCapture], startedAt: startedAt, settleAfter: settle, options: options)
            var result = Result(compensation: compensation, afterChange: afterChange, recordPath: recordPath)
            if peer != nil {
                let first = Self.delays[0].milliseconds
                var pair = [capture("snapclient (\(Int(first)) ms, --latency \(Int(first)))", recorders[3], leadMilliseconds: first), referenceCapture]
                if delayChange != nil { pair = pair.map { Self.truncated($0, before: changeAt) } }
                result.snapclient = SyncAnalysis.analyze(pair, startedAt: startedAt, settleAfter: settle, options: options)
                if let change = delayChange {
                    let after = startedAt + Int64((change.atSeconds + 1) * 1e9)
                    result.snapclientAfterChange = SyncAnalysis.analyze(
                        [capture("snapclient (\(Int(change.milliseconds)) ms, --latency \(Int(first)))", recorders[3], leadMilliseconds: change.milliseconds), referenceCapture],
                        startedAt: startedAt, settleAfter: after, options: options)
                }
            }
            return result
        }
    }

    /// The capture's reads that arrived before `instant`.
    static func truncated(_ capture: PlayerCapture, before instant: Int64) -> PlayerCapture {
        var cut = capture
        cut.reads = capture.reads.filter { $0.arrival < instant }
        return cut
    }
}
