import TuttiTiming

/// Decides, period by period, which source audio leaves the DAC, and stretches or squeezes it
/// so every speaker emits the sample stamped T at server time T + buffer − latency.
///
/// States: *idle* — no clock mapping yet, or nothing buffered that is still due: the output is
/// silence and nothing is tracked. *Playing* on the run anchored at some server time — the
/// resampler's fractional ``FractionalResampler/position`` is compared every period with the
/// position that should be leaving the DAC; errors above
/// ``Configuration/hardSyncThreshold`` are fixed at once (skip ahead, or pad with silence
/// without replaying anything), smaller ones and the clock-rate difference by a PI controller
/// setting the resampling ratio (±``Configuration/maximumCorrection`` around the estimated
/// rate). When the run's audio is used up — a pause in the source, or an underrun — the state
/// returns to idle, and the next period re-syncs from the clock alone, so a pause costs no sync.
///
/// ## Threads
/// The real-time output thread owns the scheduler and calls ``render(into:frames:localNow:outputDelay:clock:)``
/// once per period (it never blocks and, once ``reserveCapacity(frames:)`` has run, never
/// allocates except when a chunk is added). The network side decodes chunks and runs the
/// ``ClockEstimator``; it hands each ``AudioChunk`` and the newest ``ClockMapping`` over through
/// a lock-free queue or a briefly held lock, and the output thread calls ``add(_:)`` before
/// rendering. ``buffer`` and ``latency`` may be changed between periods (ServerSettings).
public struct PlayoutScheduler: Sendable {
    /// Format and tuning.
    public struct Configuration: Hashable, Sendable {
        /// Frames per second of the source (and, nominally, of the output).
        public var sampleRate: Int
        /// Interleaved channels.
        public var channels: Int
        /// Errors above this are fixed by a jump, not by resampling.
        public var hardSyncThreshold: Nanos = 2 * .nanosPerMillisecond
        /// Largest resampling correction around the estimated clock rate (1e-3 = ±1000 ppm).
        public var maximumCorrection: Double = 1e-3
        /// PI controller: correction per second of error (1/s) …
        public var proportionalGain: Double = 2
        /// … and per second·second of accumulated error (1/s²). Critically damped at kp²/4.
        public var integralGain: Double = 1
        /// Frames of fade-in after a jump inside audible audio.
        public var fadeInFrames: Int = 240
        /// See ``JitterBuffer/continuityTolerance``.
        public var continuityTolerance: Nanos = 500_000

        /// Creates a configuration for the given format.
        public init(sampleRate: Int, channels: Int) {
            self.sampleRate = sampleRate
            self.channels = channels
        }
    }

    /// What a period did.
    public enum Action: Hashable, Sendable {
        /// Nothing to play: silence.
        case silent
        /// Started playing, at the exact sub-sample position due (after silence if it is early).
        case started
        /// Jumped by this many frames (positive: skipped ahead; negative: padded with silence).
        case hardSync(frames: Double)
        /// Played continuously with a resampling correction.
        case corrected
    }

    /// Figures of one period, for logs, reports and simulations.
    public struct Report: Hashable, Sendable {
        public var action: Action
        /// Server timestamp of the source instant carried by the period's first output frame
        /// (nil when idle). The DAC emits it at local `localNow + outputDelay`.
        public var sourceTime: Nanos?
        /// Position minus due position before correcting, in nanoseconds (+: playing late audio
        /// early, i.e. ahead). Zero when starting or idle.
        public var error: Double
        /// Source frames per output frame used for this period.
        public var ratio: Double
        /// Output frames that carried buffered audio (the rest were silence).
        public var framesFromSource: Int
        /// The audio ran out during this period with nothing buffered after it (an underrun, or
        /// the end of the source).
        public var ranDry: Bool
    }

    /// Counters since creation.
    public struct Statistics: Hashable, Sendable {
        public var lateChunks = 0
        public var rejectedChunks = 0
        public var hardSyncs = 0
        public var starts = 0
        public var underruns = 0
    }

    enum State: Sendable {
        case idle
        case playing(anchor: Nanos)
    }

    /// The configuration in use.
    public let configuration: Configuration
    /// The stream's buffer (ServerSettings `bufferMs`), in nanoseconds.
    public var buffer: Nanos
    /// This speaker's latency (ServerSettings `latency`): positive plays earlier.
    public var latency: Nanos
    /// Counters.
    public internal(set) var statistics = Statistics()
    var jitter: JitterBuffer
    var resampler: FractionalResampler
    var controller: RateController
    var state: State = .idle
    var lastDue: Nanos?
    var silenceBefore: Int64 = .min
    var fadeRemaining = 0
    var scratch: [Float] = []

    /// Creates an idle scheduler.
    public init(configuration: Configuration, buffer: Nanos = 1000 * .nanosPerMillisecond, latency: Nanos = 0) {
        self.configuration = configuration
        self.buffer = buffer
        self.latency = latency
        self.jitter = JitterBuffer(
            sampleRate: configuration.sampleRate, channels: configuration.channels,
            continuityTolerance: configuration.continuityTolerance)
        self.resampler = FractionalResampler(channels: configuration.channels)
        self.controller = RateController(
            proportionalGain: configuration.proportionalGain, integralGain: configuration.integralGain,
            limit: configuration.maximumCorrection)
    }

    /// The buffered audio.
    public var bufferedFrames: Int { jitter.bufferedFrames }

    /// True while playing (not idle).
    public var isPlaying: Bool { if case .playing = state { true } else { false } }

    /// Adds a decoded chunk; drops it when it is already late (ends before the audio due at the
    /// last period), overlaps buffered audio, or would overflow the buffer.
    public mutating func add(_ chunk: AudioChunk) -> JitterBuffer.Disposition {
        let disposition = jitter.add(chunk, notEndingBefore: lastDue)
        if case .rejected(let why) = disposition {
            if why == .late { statistics.lateChunks += 1 } else { statistics.rejectedChunks += 1 }
        }
        return disposition
    }

    /// Drops all buffered audio and goes idle (codec or stream change, reconnect).
    public mutating func flush() {
        jitter.removeAll()
        state = .idle
        lastDue = nil
        controller.reset()
    }

    /// Makes room for periods of up to `frames` frames, so that rendering does not allocate.
    public mutating func reserveCapacity(frames: Int) {
        let needed = (frames * 2 + 4 * FractionalResampler.halfWidth + 8) * configuration.channels
        if scratch.count < needed { scratch = [Float](repeating: 0, count: needed) }
    }
}
