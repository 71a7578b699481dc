import TuttiTiming

/// A snapshot of the relation between the local clock and the server clock: a straight line
/// through (``localReference``, ``serverReference``) with slope ``rate``.
///
/// ``ClockEstimator`` publishes one after every accepted exchange; the network side hands the
/// newest snapshot to the real-time output thread, which passes it to
/// ``PlayoutScheduler/render(into:frames:localNow:outputDelay:clock:)``. Being a small value it
/// crosses threads without sharing any state with the estimator.
public struct ClockMapping: Hashable, Sendable {
    /// A local-clock instant at which ``serverReference`` was the server time.
    public var localReference: Nanos
    /// The server time at ``localReference``.
    public var serverReference: Nanos
    /// Server nanoseconds per local nanosecond (1 ± a few hundred ppm).
    public var rate: Double

    /// Creates a mapping through one point with the given slope.
    public init(localReference: Nanos, serverReference: Nanos, rate: Double = 1) {
        self.localReference = localReference
        self.serverReference = serverReference
        self.rate = rate
    }

    /// The server clock's reading at local time `local`, extrapolated along the line.
    ///
    /// Exact to a nanosecond for any distance from the reference an Int64 holds: the rate error
    /// term is computed in floating point, the rest in integers.
    public func serverTime(atLocal local: Nanos) -> Nanos {
        let elapsed = local &- localReference
        return serverReference &+ elapsed &+ Nanos((Double(elapsed) * (rate - 1)).rounded())
    }

    /// The local clock's reading at server time `server`, the inverse of ``serverTime(atLocal:)``.
    public func localTime(atServer server: Nanos) -> Nanos {
        let elapsed = server &- serverReference
        return localReference &+ elapsed &+ Nanos((Double(elapsed) * (1 / rate - 1)).rounded())
    }

    /// Server minus local at `local` (the clock offset), in nanoseconds.
    public func offset(atLocal local: Nanos) -> Nanos {
        serverTime(atLocal: local) &- local
    }
}
