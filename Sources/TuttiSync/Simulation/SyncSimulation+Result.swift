#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiTiming

/// What a ``SyncSimulation`` measured, against the truth.
public struct SyncSimulationResult: Sendable {
    /// One speaker's figures.
    public struct Speaker: Sendable {
        /// The speaker clock's true rate error and its sound card's error against that clock, ppm.
        public var clockPPM: Double
        public var devicePPM: Double
        /// The drift the estimator found at the end, expressed like ``clockPPM``.
        public var estimatedPPM: Double
        /// From connecting to the estimator's lock / to the first audible frame at the DAC /
        /// to the instant from which it stayed within ``SyncScenario/inSyncThreshold`` of the
        /// true schedule to the end of the run (nil: never).
        public var lockTime: Nanos?
        public var firstAudio: Nanos?
        public var inSyncTime: Nanos?
        /// Playout counters.
        public var statistics: PlayoutScheduler.Statistics
        /// Estimator counters and the schedule's lost and sent requests.
        public var accepted: Int
        public var rejected: Int
        public var lost: Int
        public var sent: Int
        /// |estimated − true server time| over all periods after lock.
        public var offsetError: Spread
        /// The estimator's own standard error at the end.
        public var reportedStandardError: Nanos
        /// |deviation from the true schedule| over all audible periods.
        public var deviation: Spread
        /// Signal-to-noise ratio of the rendered tone against the ideal, dB (sample runs only).
        public var snr: Double?
    }

    /// Per-speaker figures, in join order.
    public var speakers: [Speaker]
    /// Inter-speaker skew (max − min deviation) on the common grid, from each speaker's first audio.
    public var skew: Spread
    /// The same, leaving out each speaker's first ``SyncScenario/settleTime`` of audio.
    public var settledSkew: Spread
    /// What ``settledSkew`` leaves out of each speaker's start.
    public var settleTime: Nanos
    /// The skew series (grid time in seconds, skew in µs), for plots.
    public var skewSeries: [SkewPoint]

    /// One point of ``skewSeries``.
    public struct SkewPoint: Hashable, Sendable {
        public var time: Double
        public var skew: Double
    }

    /// The figures as plain text, one block per speaker.
    public var summary: String {
        func ms(_ value: Nanos?) -> String { value.map { Spread.micros(Double($0) / 1000) + " ms" } ?? "never" }
        func ppm(_ value: Double) -> String { Spread.micros(value * 1000) }
        var lines = ["inter-speaker skew: \(skew)", "skew after \(settleTime / .nanosPerSecond) s:    \(settledSkew)"]
        for (i, s) in speakers.enumerated() {
            lines.append(
                "speaker \(i): clock \(ppm(s.clockPPM)) ppm (found \(ppm(s.estimatedPPM))), card \(ppm(s.devicePPM)) ppm; "
                    + "lock \(ms(s.lockTime)), first audio \(ms(s.firstAudio)), in sync \(ms(s.inSyncTime))")
            lines.append(
                "  underruns \(s.statistics.underruns), late chunks \(s.statistics.lateChunks), "
                    + "hard syncs \(s.statistics.hardSyncs), starts \(s.statistics.starts); exchanges \(s.accepted) "
                    + "accepted, \(s.rejected) rejected, \(s.lost) lost of \(s.sent)")
            lines.append(
                "  offset error \(s.offsetError); reported σ \(Spread.micros(Double(s.reportedStandardError))) µs")
            lines.append("  deviation \(s.deviation)" + (s.snr.map { "; SNR \(ppm($0)) dB" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

extension SyncSimulation {
    /// The measurements of the run so far, with ``SyncSimulationResult/Speaker/inSyncTime``
    /// judged against `threshold` (default: the scenario's ``SyncScenario/inSyncThreshold``),
    /// so that one run answers for several thresholds.
    public func result(inSyncThreshold threshold: Double? = nil) -> SyncSimulationResult {
        let threshold = threshold ?? scenario.inSyncThreshold
        let grid = scenario.skewInterval
        let start = speakers.compactMap { $0.emissions.first }.min() ?? 0
        var cursors = [Int](repeating: 0, count: speakers.count)
        var all: [Double] = []
        var settled: [Double] = []
        var series: [SyncSimulationResult.SkewPoint] = []
        // In sync: the first grid time from which |deviation| stayed under the threshold to the
        // end of the run (the bench's definition, against the truth instead of the group).
        var inSyncSince = [Nanos?](repeating: nil, count: speakers.count)
        var g = start
        while g <= scenario.duration {
            var values: [Double] = []
            var settledValues: [Double] = []
            for (i, speaker) in speakers.enumerated() {
                guard let value = Self.interpolate(speaker.emissions, speaker.deviations, at: g, cursor: &cursors[i])
                else { continue }
                values.append(value)
                if g - speaker.emissions[0] >= scenario.settleTime { settledValues.append(value) }
                if abs(value) < threshold {
                    if inSyncSince[i] == nil { inSyncSince[i] = g }
                } else {
                    inSyncSince[i] = nil
                }
            }
            if values.count >= 2, let hi = values.max(), let lo = values.min() {
                all.append(hi - lo)
                series.append(.init(time: Double(g) / 1e9, skew: (hi - lo) / 1000))
            }
            if settledValues.count >= 2, let hi = settledValues.max(), let lo = settledValues.min() {
                settled.append(hi - lo)
            }
            g += grid
        }
        let figures = speakers.enumerated().map { i, s in
            SyncSimulationResult.Speaker(
                clockPPM: s.clock.ppm, devicePPM: s.device.ppm - s.clock.ppm,
                estimatedPPM: (1 / s.estimator.rate - 1) * 1e6,
                lockTime: s.lockTime, firstAudio: s.firstAudio, inSyncTime: inSyncSince[i].map { $0 - s.joinTime },
                statistics: s.scheduler.statistics,
                accepted: s.estimator.quality.accepted, rejected: s.estimator.quality.rejected,
                lost: s.schedule.lostCount, sent: s.schedule.sentCount,
                offsetError: Spread(s.offsetErrors.map { abs($0) }),
                reportedStandardError: s.estimator.quality.offsetStandardError,
                deviation: Spread(s.deviations.map { abs($0) }),
                snr: scenario.renderSamples && s.noisePower > 0 ? 10 * log10(s.signalPower / s.noisePower) : nil)
        }
        return SyncSimulationResult(
            speakers: figures, skew: Spread(all), settledSkew: Spread(settled), settleTime: scenario.settleTime,
            skewSeries: series)
    }

    /// Linear interpolation of a time-sorted series at `t`; nil outside it. `cursor` only moves forward.
    static func interpolate(_ times: [Nanos], _ values: [Double], at t: Nanos, cursor: inout Int) -> Double? {
        guard let first = times.first, let last = times.last, t >= first, t <= last else { return nil }
        while cursor + 1 < times.count, times[cursor + 1] <= t { cursor += 1 }
        guard cursor + 1 < times.count else { return values[cursor] }
        let t0 = times[cursor]
        let t1 = times[cursor + 1]
        // Across a gap in the audio (idle periods) nothing is interpolated.
        guard t1 > t0, t1 - t0 < 100 * .nanosPerMillisecond else { return t == t0 ? values[cursor] : nil }
        let w = Double(t - t0) / Double(t1 - t0)
        return values[cursor] + w * (values[cursor + 1] - values[cursor])
    }
}
