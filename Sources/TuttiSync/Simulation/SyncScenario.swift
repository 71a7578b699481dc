import TuttiTiming

/// The knobs of a ``SyncSimulation``: speakers, their clocks and outputs, the network, the
/// stream, and how long to play. The defaults are the speaker issue's acceptance scenario:
/// four speakers with clocks within ±100 ppm (plus a slow ±0.5 ppm wander and a sound card
/// ±20 ppm off its host clock), Wi-Fi-like jitter, a 1000 ms buffer, one hour.
public struct SyncScenario: Sendable {
    /// Seeds every random choice; equal seeds replay equal runs.
    public var seed: UInt64 = 1
    /// Simulated time to play.
    public var duration: Nanos = 3600 * .nanosPerSecond
    /// When each speaker connects (true time since the start); the count is the speaker count.
    public var joinTimes: [Nanos] = [0, 150, 400, 700].map { $0 * .nanosPerMillisecond }
    /// Each speaker's output delay (reported and true), cycled if shorter than the speakers.
    public var outputDelays: [Nanos] = [10, 25, 40, 60].map { $0 * .nanosPerMillisecond }
    /// Largest |rate error| of a speaker's clock, ppm (drawn uniformly).
    public var maximumClockPPM: Double = 100
    /// Amplitude and period (s) of each clock's slow rate wander.
    public var wanderPPM: Double = 0.5
    public var wanderPeriod: Double = 2400
    /// Largest |rate error| of a sound card against its host's clock, ppm.
    public var maximumDevicePPM: Double = 20
    /// The network between server and every speaker.
    public var network = VirtualNetwork()
    /// Stream format.
    public var sampleRate = 48_000
    public var channels = 2
    /// Frames per server chunk (20 ms at 48 kHz) and per output period.
    public var chunkFrames = 960
    public var periodFrames = 1024
    /// The stream's buffer and every speaker's latency setting.
    public var buffer: Nanos = 1000 * .nanosPerMillisecond
    public var latency: Nanos = 0
    /// Render real samples (a sine of ``toneFrequency``) through the resampler and measure their
    /// SNR against the ideal, instead of positions alone.
    public var renderSamples = false
    public var toneFrequency = 997.0
    /// Interval of the common grid the inter-speaker skew is sampled on.
    public var skewInterval: Nanos = 100 * .nanosPerMillisecond
    /// Each speaker's first audio left out of ``SyncSimulationResult/settledSkew``.
    public var settleTime: Nanos = 10 * .nanosPerSecond
    /// |deviation from the true schedule| under which a speaker counts as in sync.
    public var inSyncThreshold: Double = 100_000
    /// Feed every chunk's arrival to the estimator as a one-way sample (its `sent` stamp), as
    /// the speaker does.
    public var oneWaySamples = true
    /// Tuning of the code under test.
    public var estimator = ClockEstimator.Configuration()
    public var schedule = TimeSyncSchedule.Configuration()
    public var hardSyncThreshold: Nanos = 2 * .nanosPerMillisecond

    /// Creates the default scenario.
    public init() {}
}

/// Percentiles of a set of magnitudes, in nanoseconds.
public struct Spread: Hashable, Sendable, CustomStringConvertible {
    public var p50: Double
    public var p99: Double
    public var max: Double
    public var count: Int

    /// Percentiles of `values` (nearest rank); zeros for no values.
    public init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        p50 = Self.rank(0.5, ofSorted: sorted)
        p99 = Self.rank(0.99, ofSorted: sorted)
        max = sorted.last ?? 0
    }

    /// The nearest-rank `p` quantile (0…1) of ascending `sorted`; 0 when empty.
    public static func rank(_ p: Double, ofSorted sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = Swift.max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)
        return sorted[Swift.min(sorted.count - 1, index)]
    }

    public var description: String {
        "p50 \(Self.micros(p50)) µs, p99 \(Self.micros(p99)) µs, max \(Self.micros(max)) µs (n=\(count))"
    }

    static func micros(_ nanos: Double) -> String {
        let tenths = Int((nanos / 100).rounded())
        return "\(tenths < 0 ? "-" : "")\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}
