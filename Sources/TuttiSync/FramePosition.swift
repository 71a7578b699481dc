/// A position on a source's frame grid: a whole frame index plus a fraction in `0..<1`.
///
/// Kept split so that hours of advancing by a ratio near 1 lose no precision: the fraction is
/// always small, and the index is exact.
public struct FramePosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The whole frame at or before the position.
    public private(set) var frame: Int64
    /// How far past ``frame`` the position is, in `0..<1`.
    public private(set) var fraction: Double

    /// Creates a position, normalizing any fraction (negative or ≥ 1) into `0..<1`.
    public init(frame: Int64, fraction: Double = 0) {
        let whole = fraction.rounded(.down)
        self.frame = frame + Int64(whole)
        self.fraction = fraction - whole
    }

    /// Creates a position from a frame count that fits a Double exactly enough (|value| < 2^40).
    public init(_ value: Double) {
        self.init(frame: 0, fraction: value)
    }

    /// The position `frames` further on (`frames` may be negative or fractional).
    public func advanced(by frames: Double) -> FramePosition {
        FramePosition(frame: frame, fraction: fraction + frames)
    }

    /// Signed frames from `self` to `other`, exact to ~1e-9 frame for distances below 2^40.
    public func distance(to other: FramePosition) -> Double {
        Double(other.frame - frame) + (other.fraction - fraction)
    }

    public static func < (lhs: FramePosition, rhs: FramePosition) -> Bool {
        (lhs.frame, lhs.fraction) < (rhs.frame, rhs.fraction)
    }

    public var description: String { "\(frame)+\(fraction)" }
}
