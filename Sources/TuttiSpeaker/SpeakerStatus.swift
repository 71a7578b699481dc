import Synchronization
import TuttiSync
import TuttiTiming
import TuttiWire

/// The speaker's own view of how it is doing, for logs and status lines — never used to
/// measure sync (that is done from outside, on what the output emits).
final class SpeakerStatus: Sendable {
    struct Snapshot: Sendable {
        var locked = false
        var ratePPM = 0.0
        var offsetErrorMicroseconds = 0.0
        var exchanges = 0
        var periods = 0
        var hardSyncs = 0
        var underruns = 0
        var lastErrorMicroseconds = 0.0
        var bufferMs = 0.0
        var outputDelayMs = 0.0
        /// Where the clock-sync messages go: `datagram` or `stream`.
        var timeChannel = "stream"
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func update(estimator: ClockEstimator) {
        let quality = estimator.quality
        state.withLock {
            $0.locked = estimator.isLocked
            $0.ratePPM = (estimator.rate - 1) * 1e6
            $0.offsetErrorMicroseconds = Double(quality.offsetStandardError) / 1000
            $0.exchanges = quality.accepted
        }
    }

    func update(timeChannel: String) { state.withLock { $0.timeChannel = timeChannel } }

    func update(statistics: PlayoutScheduler.Statistics, report: PlayoutScheduler.Report, bufferMs: Double, outputDelay: Nanos) {
        state.withLock {
            $0.periods += 1
            $0.hardSyncs = statistics.hardSyncs
            $0.underruns = statistics.underruns
            $0.lastErrorMicroseconds = report.error / 1000
            $0.bufferMs = bufferMs
            $0.outputDelayMs = Double(outputDelay) / 1e6
        }
    }

    /// The report a server that asked for one gets (Tutti's SpeakerStatus message).
    var report: SpeakerStatusReport {
        let now = snapshot
        return SpeakerStatusReport(
            locked: now.locked, clockErrorUs: now.offsetErrorMicroseconds, ratePpm: now.ratePPM, bufferMs: now.bufferMs,
            outputDelayMs: now.outputDelayMs, underruns: now.underruns, hardSyncs: now.hardSyncs, playoutErrorUs: now.lastErrorMicroseconds,
            timeChannel: now.timeChannel)
    }
}
