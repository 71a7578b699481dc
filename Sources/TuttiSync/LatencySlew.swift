import TuttiTiming

/// How a speaker's latency setting reaches the playout: a small change — a Bluetooth speaker's
/// delay wandering by 15 ms, a user nudging it by a few — is slewed at `rate` (the playout
/// follows by resampling, inaudibly, and stays within its hard-sync threshold of where it
/// should be), while a large one, or any change while nothing plays, takes effect at once.
public struct LatencySlew: Sendable, Equatable {
    /// Seconds of latency change per second of playing: 500 ppm, half the resampler's range.
    public var rate: Double = 500e-6
    /// Changes larger than this jump (a slew would take too long to be what the user meant).
    public var jumpAbove: Nanos = 40 * .nanosPerMillisecond

    public init() {}

    /// The latency for the next period, `period` long, moving from `current` toward `target`.
    public func next(from current: Nanos, toward target: Nanos, period: Nanos, playing: Bool) -> Nanos {
        let difference = target - current
        guard playing, abs(difference) <= jumpAbove else { return target }
        let step = Nanos((Double(period) * rate).rounded(.up))
        return abs(difference) <= step ? target : current + (difference > 0 ? step : -step)
    }
}
