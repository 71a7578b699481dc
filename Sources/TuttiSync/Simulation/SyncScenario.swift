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
    /// The path from the server to the speakers when it differs from ``network`` (which is
    /// then the way up only): Wi-Fi's two directions rarely behave alike.
    public var downlink: VirtualNetwork?
    /// The server-to-speaker path: ``downlink``, else ``network``.
    public var downlinkNetwork: VirtualNetwork { downlink ?? network }
    /// Time messages travel as datagrams of their own (a UDP time channel) instead of in the
    /// audio connection's order: a request never waits behind an earlier one, nor a reply behind
    /// audio. The network's delays and losses are the same.
    public var timeOverDatagrams = false
    /// Server restarts: at each `at` (true time) the server goes away for `downFor`. Every
    /// speaker's connection drops — its buffered audio with it, its clock estimate kept (the
    /// server's host and clock are the same) — and it reconnects when the server is back,
    /// which sends only what it produces from then on.
    public var serverRestarts: [ServerRestart] = []

    public struct ServerRestart: Sendable {
        public var at: Nanos
        public var downFor: Nanos
        public init(at: Nanos, downFor: Nanos) {
            self.at = at
            self.downFor = downFor
        }
    }
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

    /// The long-run soak: clocks whose rates swing by ±3 ppm (a room warming and cooling, on
    /// top of ±100 ppm) with period `swingPeriod`, 5 % of Time messages lost, and the server
    /// restarting halfway (down 5 s). A day (`tutti bench sim --soak-hours 24`) swings every
    /// four hours; the test compresses it.
    public static func soak(duration: Nanos, swingPeriod: Double, seed: UInt64 = 24) -> SyncScenario {
        var scenario = SyncScenario()
        scenario.seed = seed
        scenario.duration = duration
        scenario.wanderPPM = 3
        scenario.wanderPeriod = swingPeriod
        scenario.network.lossProbability = 0.05
        scenario.serverRestarts = [.init(at: duration / 2, downFor: 5 * .nanosPerSecond)]
        return scenario
    }
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
