#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import TuttiSync

/// Distortion and position tracking of the variable-ratio resampler, measured with sines.
@Suite struct FractionalResamplerTests {
    static let rate = 48_000.0

    static func sine(frequency: Double, frames: Int, amplitude: Double = 0.5) -> [Float] {
        (0..<frames).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / rate)) }
    }

    /// Renders `frames` mono frames from `source` (starting at source frame 0) in periods of
    /// `period`, calling `ratio(periodIndex)` before each.
    static func render(
        _ source: [Float], start: FramePosition, frames: Int, period: Int = 480, ratio: (Int) -> Double
    ) -> (output: [Float], positions: [FramePosition]) {
        var resampler = FractionalResampler(channels: 1, position: start)
        var output = [Float](repeating: 0, count: frames)
        var positions: [FramePosition] = []
        var done = 0
        var index = 0
        source.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { out in
                while done < frames {
                    let n = min(period, frames - done)
                    resampler.ratio = ratio(index)
                    positions.append(resampler.position)
                    resampler.render(
                        from: src, sourceStart: 0,
                        into: UnsafeMutableBufferPointer(rebasing: out[done..<(done + n)]), frames: n)
                    done += n
                    index += 1
                }
            }
        }
        positions.append(resampler.position)
        return (output, positions)
    }

    /// THD+N in dB: residual after removing the best-fitting sine of `frequency` (cycles per
    /// output frame × rate) and DC, relative to that sine.
    static func thdN(_ y: [Float], frequency: Double) -> Double {
        let w = 2 * Double.pi * frequency / rate
        // Least squares for a·sin + b·cos + c via the 3×3 normal equations.
        var m = [[Double]](repeating: [0, 0, 0], count: 3)
        var v = [0.0, 0.0, 0.0]
        for (j, value) in y.enumerated() {
            let basis = [sin(w * Double(j)), cos(w * Double(j)), 1]
            for r in 0..<3 {
                v[r] += basis[r] * Double(value)
                for c in 0..<3 { m[r][c] += basis[r] * basis[c] }
            }
        }
        // Gaussian elimination.
        for i in 0..<3 {
            for k in (i + 1)..<3 {
                let f = m[k][i] / m[i][i]
                for c in i..<3 { m[k][c] -= f * m[i][c] }
                v[k] -= f * v[i]
            }
        }
        var x = [0.0, 0.0, 0.0]
        for i in stride(from: 2, through: 0, by: -1) {
            var sum = v[i]
            for c in (i + 1)..<3 { sum -= m[i][c] * x[c] }
            x[i] = sum / m[i][i]
        }
        var signal = 0.0
        var noise = 0.0
        for (j, value) in y.enumerated() {
            let fit = x[0] * sin(w * Double(j)) + x[1] * cos(w * Double(j)) + x[2]
            signal += fit * fit
            noise += (Double(value) - fit) * (Double(value) - fit)
        }
        return 10 * log10(noise / signal)
    }

    @Test(arguments: [100.0, -100.0, 1000.0, -1000.0], [997.0, 6_000.0, 15_000.0])
    func distortionAtConstantCorrection(ppm: Double, frequency: Double) {
        let ratio = 1 + ppm * 1e-6
        let source = Self.sine(frequency: frequency, frames: 30_000)
        let (output, _) = Self.render(source, start: FramePosition(frame: 100, fraction: 0.37), frames: 24_000) { _ in ratio }
        let figure = Self.thdN(output, frequency: frequency * ratio)
        print("THD+N at \(ppm) ppm, \(frequency) Hz: \(figure) dB")
        #expect(figure < -80)
    }

    @Test func distortionWhileTheRatioChangesEveryPeriod() {
        // A controller-like correction swinging between ±1000 ppm, new value every 10 ms.
        let frequency = 997.0
        let source = Self.sine(frequency: frequency, frames: 60_000)
        let ratios = (0..<200).map { 1 + 1e-3 * sin(Double($0) / 7) }
        let (output, positions) = Self.render(source, start: FramePosition(frame: 64), frames: 48_000) { ratios[$0] }
        // Compare with the ideal sine at the positions the resampler reports.
        var signal = 0.0
        var noise = 0.0
        for (p, start) in positions.dropLast().enumerated() {
            for j in 0..<480 {
                let at = Double(start.frame) + start.fraction + Double(j) * ratios[p]
                let ideal = 0.5 * sin(2 * Double.pi * frequency * at / Self.rate)
                let actual = Double(output[p * 480 + j])
                signal += ideal * ideal
                noise += (actual - ideal) * (actual - ideal)
            }
        }
        let figure = 10 * log10(noise / signal)
        print("error against the ideal at tracked positions, ratio swinging ±1000 ppm: \(figure) dB")
        #expect(figure < -80)
    }

    @Test func positionAdvancesByExactlyFramesTimesRatio() {
        let source = [Float](repeating: 0, count: 200_000)
        let ratios = (0..<300).map { 1 + 1e-3 * cos(Double($0)) }
        let (_, positions) = Self.render(source, start: FramePosition(frame: 10, fraction: 0.25), frames: 300 * 480) { ratios[$0] }
        var expected = FramePosition(frame: 10, fraction: 0.25)
        for (p, position) in positions.enumerated() {
            #expect(abs(position.distance(to: expected)) < 1e-9)
            if p < ratios.count { expected = expected.advanced(by: Double(480) * ratios[p]) }
        }
    }

    @Test func unityRatioAtWholePositionIsBitExact() {
        let source: [Float] = (0..<4_000).map { Float(Int16(truncatingIfNeeded: $0 &* 7919)) / 32768 }
        let (output, _) = Self.render(source, start: FramePosition(frame: 500), frames: 2_000) { _ in 1 }
        #expect(Array(output) == Array(source[500..<2_500]))
    }

    @Test func framesOutsideTheSourceReadAsSilence() {
        let (output, _) = Self.render([1, 1, 1, 1], start: FramePosition(frame: -1000), frames: 100) { _ in 1 }
        #expect(output.allSatisfy { $0 == 0 })
    }
}
