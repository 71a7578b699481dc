/// Time on one clock, in nanoseconds since that clock's (arbitrary) epoch.
///
/// The server's clock and each speaker's clock are different clocks; a value carries no tag
/// saying which, so names (`serverTime`, `localTime`) say it. Int64 nanoseconds cover ±292
/// years, far more than any monotonic clock's uptime.
public typealias Nanos = Int64

public extension Int64 {
    /// One millisecond in nanoseconds.
    static let nanosPerMillisecond: Int64 = 1_000_000
    /// One second in nanoseconds.
    static let nanosPerSecond: Int64 = 1_000_000_000
}
