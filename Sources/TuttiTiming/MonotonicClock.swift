#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a clock in nanoseconds. Pure code takes instants as parameters; adapters take a
/// `TimeSource` so that tests and simulations can substitute virtual or skewed clocks.
public protocol TimeSource: Sendable {
    /// The current time on this clock, in nanoseconds.
    func now() -> Nanos
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`), the clock Snapcast peers use on the wire.
public struct MonotonicClock: TimeSource {
    public init() {}

    public func now() -> Nanos {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Nanos(spec.tv_sec) * .nanosPerSecond + Nanos(spec.tv_nsec)
    }
}

/// A clock that runs offset and off-rate from another: `now = base + offset + (base - origin) * ppm / 1e6`.
///
/// Used by `--clock-offset-s` / `--clock-drift-ppm` so one machine can stand in for devices with
/// independent, drifting clocks.
public struct SkewedClock<Base: TimeSource>: TimeSource {
    public let base: Base
    public let offset: Nanos
    public let ppm: Double
    /// A step of the clock, as a host whose clock is set while it runs would see: from `after`
    /// (of `base` time since creation) on, the clock reads `by` later (negative: earlier).
    public let step: (after: Nanos, by: Nanos)?
    private let origin: Nanos

    /// Creates a clock `offset` ahead of `base`, running `ppm` parts per million fast (negative:
    /// slow), stepping once by `step.by` when `step.after` has passed.
    public init(base: Base, offset: Nanos, ppm: Double, step: (after: Nanos, by: Nanos)? = nil) {
        self.base = base
        self.offset = offset
        self.ppm = ppm
        self.step = step
        self.origin = base.now()
    }

    public func now() -> Nanos {
        let t = base.now()
        let elapsed = t - origin
        let stepped = step.map { elapsed >= $0.after ? $0.by : 0 } ?? 0
        return t + offset + stepped + Nanos((Double(elapsed) * ppm / 1_000_000).rounded())
    }
}
