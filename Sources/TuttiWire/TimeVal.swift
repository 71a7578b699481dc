/// A Snapcast wire time: whole seconds and microseconds, both signed 32-bit.
///
/// Snapcast writes clock readings (monotonic clock) and durations in this form. Encoding
/// normalizes `usec` into 0..<1_000_000 (negative values borrow from `sec`), the way a
/// `timeval` subtraction does; decoding accepts unnormalized values as they come.
public struct TimeVal: Hashable, Sendable, CustomStringConvertible {
    public var sec: Int32
    public var usec: Int32

    public static let zero = TimeVal(sec: 0, usec: 0)

    public init(sec: Int32, usec: Int32) {
        self.sec = sec
        self.usec = usec
    }

    /// Rounds `nanoseconds` down to whole microseconds and splits it; values beyond ±68 years
    /// saturate at the Int32 seconds limit instead of trapping.
    public init(nanoseconds: Int64) {
        let micros = nanoseconds >= 0 ? nanoseconds / 1000 : -((-nanoseconds + 999) / 1000)
        var seconds = micros / 1_000_000
        var rest = micros % 1_000_000
        if rest < 0 {
            rest += 1_000_000
            seconds -= 1
        }
        self.sec = Int32(clamping: seconds)
        self.usec = Int32(rest)
    }

    /// The time in nanoseconds (exact: microsecond resolution).
    public var nanoseconds: Int64 { Int64(sec) * 1_000_000_000 + Int64(usec) * 1000 }

    /// The time in microseconds.
    public var microseconds: Int64 { Int64(sec) * 1_000_000 + Int64(usec) }

    public var description: String { "\(sec)s\(usec)us" }
}
