import Logging
import TuttiHarness
import TuttiMeasure

extension SyncBenchCommand {
    /// `tutti bench sync --bluetooth`: see ``BluetoothSyncRun``.
    func bluetoothRun(logger: Logger) async throws {
        let pipeWire = soundServer == "pipewire"
        if let missing = BluetoothSyncRun.missing(pipeWire: pipeWire) { throw fail("tutti bench sync --bluetooth \(missing)") }
        let change = (atSeconds: settleSeconds + 5, milliseconds: BluetoothSyncRun.delays[0].milliseconds + 15)
        say("tutti bench sync --bluetooth: one `tutti speaker --bluetooth` host, \(BluetoothSyncRun.delays.map { "\($0.name) (\(Int($0.milliseconds)) ms)" }.joined(separator: " and ")) on \(pipeWire ? "PipeWire" : "PulseAudio") null sinks, a wired reference speaker and a snapclient on a Bluetooth sink; \(Int(seconds)) s, \(BluetoothSyncRun.delays[0].name)'s delay moves to \(Int(change.milliseconds)) ms at \(Int(change.atSeconds)) s")
        let run = BluetoothSyncRun(seconds: seconds, settleSeconds: settleSeconds, delayChange: change, snapclient: which("snapclient"), pipeWire: pipeWire)
        let result = try await run.run(executable: currentExecutablePath(), logger: logger)
        func row(_ label: String, _ report: SyncReport?) -> String {
            guard let skew = report?.skew else { return "| \(label) | – | – | – | – |" }
            return "| \(label) | \(String(format: "%.0f", skew.p50)) | \(String(format: "%.0f", skew.p99)) | \(String(format: "%.0f", skew.max)) | \(report!.comparedWindows) |"
        }
        say("")
        say("| measured from the sinks' monitors (parec), µs | skew p50 | skew p99 | skew max | windows |")
        say("|---|---:|---:|---:|---:|")
        say(row("Tutti: 2 Bluetooth speakers + wired reference, delays as reported", result.compensation))
        say(row("Tutti: the same after one delay moved by 15 ms (slewed, judged after the slew)", result.afterChange))
        say(row("snapclient on a Bluetooth sink, --latency set by hand to the delay, vs the reference", result.snapclient))
        say(row("snapclient after its speaker's delay moved by 15 ms (it cannot know)", result.snapclientAfterChange))
        say(row("record path: wired reference (null sink via parec) vs a pipe output", result.recordPath))
        say("(uncompensated, the two Bluetooth speakers would sound 180 and 250 ms after the wired one)")
        for report in [result.compensation, result.afterChange, result.snapclient, result.snapclientAfterChange, result.recordPath].compactMap({ $0 }) {
            say("\n" + report.textTable())
        }
    }
}
