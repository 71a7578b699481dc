#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A variable-ratio resampler for ratios near 1: a Kaiser-windowed sinc of 32 taps, tabulated
/// at 512 phases and linearly interpolated between phases, read at a continuous fractional
/// ``position``.
///
/// Output frame i is the band-limited source evaluated at `position + i × ratio`; after a call
/// ``position`` has advanced by exactly `frames × ratio` (to ~1e-12 frame), so the position is
/// the sub-sample truth of which source instant the next output frame carries — the figure
/// ``PlayoutScheduler`` measures its error with. At a whole position with ratio exactly 1 the
/// output is bit-exact (the kernel at phase 0 is a unit impulse). Full-band cutoff: content up
/// to ~0.42 × rate (20 kHz at 48 kHz) passes at ≥ 80 dB fidelity; ratios above 1 do not filter
/// aliases, which is harmless within the ±1 % this is meant for.
///
/// Samples are interleaved `Float` frames (±1.0 full scale); the caller converts 16-bit wire
/// PCM on the way in and out (bit-exact both ways).
public struct FractionalResampler: Sendable {
    /// Taps on each side of the read position.
    public static let halfWidth = 16
    /// Tabulated phases of the kernel between two source frames.
    public static let phases = 512

    /// Interleaved channels per frame.
    public let channels: Int
    /// The source position the next output frame is read at.
    public var position: FramePosition
    /// Source frames per output frame; must be positive (1 plays unchanged, 1.0001 consumes
    /// the source 100 ppm faster).
    public var ratio: Double = 1

    /// Creates a resampler reading from `position`.
    public init(channels: Int, position: FramePosition = FramePosition(frame: 0)) {
        precondition(channels > 0, "channels must be positive")
        self.channels = channels
        self.position = position
    }

    /// The source frames that rendering `frames` output frames at the current ratio reads
    /// (taps included); frames outside what the caller supplies count as silence.
    public func sourceFrames(forOutput frames: Int) -> Range<Int64> {
        let first = position.frame - Int64(Self.halfWidth) + 1
        let lastCentre = position.advanced(by: ratio * Double(max(frames - 1, 0))).frame
        return first..<(lastCentre + Int64(Self.halfWidth) + 2)
    }

    /// Advances the position as rendering `frames` would, without computing samples.
    public mutating func skip(frames: Int) {
        position = position.advanced(by: ratio * Double(frames))
    }

    /// Renders `frames` interleaved output frames from `source`, whose first frame is source
    /// frame `sourceStart`, and advances ``position``.
    ///
    /// Source frames outside `source` read as zero. `output` must hold `frames × channels`.
    public mutating func render(
        from source: UnsafeBufferPointer<Float>, sourceStart: Int64,
        into output: UnsafeMutableBufferPointer<Float>, frames: Int
    ) {
        precondition(output.count >= frames * channels, "output too small")
        let width = 2 * Self.halfWidth
        let sourceCount = source.count / channels
        let table = Self.kernel
        table.withUnsafeBufferPointer { kernel in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { taps in
                let start = position
                for i in 0..<frames {
                    let position = start.advanced(by: ratio * Double(i))
                    let scaled = position.fraction * Double(Self.phases)
                    let row = min(Int(scaled), Self.phases - 1)
                    let alpha = Float(scaled - Double(row))
                    let r0 = row * width
                    let r1 = r0 + width
                    for t in 0..<width {
                        let a = kernel[r0 + t]
                        taps[t] = a + alpha * (kernel[r1 + t] - a)
                    }
                    let base = Int(position.frame - sourceStart) - Self.halfWidth + 1
                    for c in 0..<channels {
                        var sum: Float = 0
                        if base >= 0, base + width <= sourceCount {
                            var index = base * channels + c
                            for t in 0..<width {
                                sum += source[index] * taps[t]
                                index += channels
                            }
                        } else {
                            for t in 0..<width where base + t >= 0 && base + t < sourceCount {
                                sum += source[(base + t) * channels + c] * taps[t]
                            }
                        }
                        output[i * channels + c] = sum
                    }
                }
                position = start.advanced(by: ratio * Double(frames))
            }
        }
    }

    /// (phases + 1) rows of 2 × halfWidth taps; row j holds h(k − j/phases) for
    /// k = −halfWidth + 1 … halfWidth, h = sinc × Kaiser(β = 9).
    static let kernel: [Float] = {
        let h = halfWidth
        let beta = 9.0
        func besselI0(_ x: Double) -> Double {
            var sum = 1.0
            var term = 1.0
            var k = 1.0
            while term > 1e-17 * sum {
                term *= (x / (2 * k)) * (x / (2 * k))
                sum += term
                k += 1
            }
            return sum
        }
        let norm = besselI0(beta)
        var table = [Float](repeating: 0, count: (phases + 1) * 2 * h)
        for row in 0...phases {
            let fraction = Double(row) / Double(phases)
            for tap in 0..<(2 * h) {
                let k = Double(tap - h + 1)
                let t = k - fraction
                let value: Double
                if t == 0 {
                    value = 1
                } else if row == 0 || row == phases {
                    value = 0  // whole-frame phases are exact impulses
                } else {
                    let ratio = t / Double(h)
                    let window = abs(ratio) >= 1 ? 0 : besselI0(beta * (1 - ratio * ratio).squareRoot()) / norm
                    value = sin(Double.pi * t) / (Double.pi * t) * window
                }
                table[row * 2 * h + tap] = Float(value)
            }
        }
        return table
    }()
}
