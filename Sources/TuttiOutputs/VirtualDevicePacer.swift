import TuttiTiming

/// Decides when a virtual sound card (pipe, file, null) takes its next block, and what delay it
/// reports. Pure: every instant is a parameter, read from the output's ``TimeSource``.
///
/// The virtual DAC plays frame *k* at `start + k / rate` on the output's clock. When that clock
/// is a `SkewedClock` (`--clock-drift-ppm`), the virtual DAC runs at the simulated clock's rate,
/// as a real card's crystal would. Each block is handed over ``lead`` before its first frame is
/// due, so a reader of the pipe receives every block a constant `lead` ahead of its play time.
///
/// A block may be begun (rendered) ``renderAhead`` before its write time and handed over at
/// that time, so that how long the render takes does not move the write.
///
/// States:
/// - `idle`: nothing written yet. The next ``beginPeriod(at:)`` anchors
///   `start = now + renderAhead + lead`: the first block too is begun a render-ahead early.
/// - `running(start, framesWritten)`: the next block's first frame is frame `framesWritten`,
///   due at `start + framesWritten / rate`, to be written at that time minus `lead`.
///
/// Falling behind: a block begun after its write time is late, and the reported delay shrinks
/// (negative once the frame is overdue); the writer then catches up by writing the following
/// blocks without sleeping, so the audio stays continuous through short hiccups. A block begun
/// more than ``maximumLateness`` after its write time (the process was stopped, the pipe's
/// reader stalled) re-anchors instead: `start = now + renderAhead + lead` as if the device had
/// just been opened, and ``reanchorCount`` goes up. Re-anchoring is a gap on the virtual timeline, never
/// a burst of stale blocks. A clock that went back (a write time further ahead than a period
/// plus ``maximumLateness`` can only mean that) re-anchors too, rather than wait for the lost
/// time to pass again.
public struct VirtualDevicePacer: Sendable, Equatable {
    /// Whether the device has been anchored yet.
    public enum State: Equatable, Sendable {
        case idle
        case running(start: Nanos, framesWritten: Int64)
    }

    /// Frames per second of the virtual DAC (on the output's clock).
    public let sampleRate: Int
    /// Frames per block.
    public let periodFrames: Int
    /// How long before its first frame is due a block is handed over, in nanoseconds.
    public let lead: Nanos
    /// How late a block may begin before the device re-anchors instead of catching up.
    public let maximumLateness: Nanos
    /// How long before its write time a block is begun.
    public let renderAhead: Nanos
    public private(set) var state: State = .idle
    /// How many times the device re-anchored because it fell too far behind.
    public private(set) var reanchorCount = 0

    /// Creates an idle pacer. `sampleRate` and `periodFrames` must be positive, `lead`,
    /// `maximumLateness` and `renderAhead` not negative.
    public init(sampleRate: Int, periodFrames: Int, lead: Nanos, maximumLateness: Nanos, renderAhead: Nanos = 0) {
        precondition(sampleRate > 0 && periodFrames > 0, "rate and period must be positive")
        precondition(lead >= 0 && maximumLateness >= 0 && renderAhead >= 0, "lead, lateness and render-ahead must not be negative")
        self.sampleRate = sampleRate
        self.periodFrames = periodFrames
        self.lead = lead
        self.maximumLateness = maximumLateness
        self.renderAhead = renderAhead
    }

    /// The instant frame `frame` reaches the virtual DAC, for a device anchored at `start`.
    public func dueTime(ofFrame frame: Int64, start: Nanos) -> Nanos {
        // Split into whole seconds and the rest so frame·1e9 cannot overflow on long runs.
        let rate = Int64(sampleRate)
        return start + frame / rate * .nanosPerSecond + frame % rate * .nanosPerSecond / rate
    }

    /// When the next block's first frame is due, or nil while idle.
    public var nextDueTime: Nanos? {
        guard case .running(let start, let written) = state else { return nil }
        return dueTime(ofFrame: written, start: start)
    }

    /// When the next block should be written (its due time minus ``lead``); nil while idle,
    /// meaning "now".
    public var nextWriteTime: Nanos? { nextDueTime.map { $0 - lead } }

    /// The next block begins at `now` (the writer woke up); returns its timing.
    ///
    /// Anchors an idle device, and re-anchors one more than ``maximumLateness`` behind. Calling
    /// it again before ``framesWritten(_:)`` reports the same block (with a newer `now`).
    public mutating func beginPeriod(at now: Nanos) -> PeriodTiming {
        if let due = nextDueTime, now - (due - lead) <= maximumLateness, !clockWentBack(at: now) {
            return PeriodTiming(localNow: now, delay: due - now, frames: periodFrames)
        }
        if state != .idle { reanchorCount += 1 }
        state = .running(start: now + renderAhead + lead, framesWritten: 0)
        return PeriodTiming(localNow: now, delay: renderAhead + lead, frames: periodFrames)
    }

    /// Whether the next write time is so far after `now` that the clock must have been set back:
    /// further than a period plus ``maximumLateness`` (a writer never gets that early).
    public func clockWentBack(at now: Nanos) -> Bool {
        guard let write = nextWriteTime else { return false }
        return write - now > dueTime(ofFrame: Int64(periodFrames), start: 0) + maximumLateness
    }

    /// `frames` frames were handed to the device (usually ``periodFrames``). Ignored while idle.
    public mutating func framesWritten(_ frames: Int) {
        guard case .running(let start, let written) = state else { return }
        state = .running(start: start, framesWritten: written + Int64(frames))
    }
}
