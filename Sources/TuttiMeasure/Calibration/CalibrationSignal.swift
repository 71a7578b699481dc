import Foundation

/// Test signals for acoustic calibration: bursts of band-limited noise, a different one per
/// speaker (a different seed), so that several can be found in one recording.
///
/// Noise has a single sharp correlation peak (no periodicity to be confused by), and two
/// different noises barely correlate, so one speaker's burst is not mistaken for another's.
/// The band (by default 300 Hz – 4 kHz, where small speakers and phone microphones work well)
/// widens the peak to several samples: a microphone whose clock runs a few hundred ppm off
/// stretches a burst by a sample or two, which a full-band peak would not survive.
public enum CalibrationSignal {
    /// A burst of `seconds` at `rate`, peak amplitude 1, with 5 ms fades at both ends.
    public static func noiseBurst(seed: UInt64, rate: Int, seconds: Double = 0.25, band: ClosedRange<Double> = 300...4_000) -> [Float] {
        let length = max(64, Int(seconds * Double(rate)))
        let fft = FFT(size: FFT.size(atLeast: length))
        var generator = SplitMix(seed: seed)
        var real = [Double](repeating: 0, count: fft.size)
        var imaginary = [Double](repeating: 0, count: fft.size)
        let binWidth = Double(rate) / Double(fft.size)
        for bin in 1..<fft.size / 2 {
            let frequency = Double(bin) * binWidth
            guard band.contains(frequency) else { continue }
            let phase = generator.unit() * 2 * Double.pi
            real[bin] = cos(phase)
            imaginary[bin] = sin(phase)
            real[fft.size - bin] = cos(phase)
            imaginary[fft.size - bin] = -sin(phase)
        }
        fft.transform(&real, &imaginary, inverse: true)
        var burst = real.prefix(length).map { Float($0) }
        let fade = min(length / 2, max(1, rate / 200))
        for index in 0..<fade {
            let gain = Float(index) / Float(fade)
            burst[index] *= gain
            burst[length - 1 - index] *= gain
        }
        let peak = burst.map { abs($0) }.max() ?? 1
        return peak > 0 ? burst.map { $0 / peak } : burst
    }
}

/// A small deterministic generator (SplitMix64), so a burst depends only on its seed.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
