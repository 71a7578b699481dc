#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An LPC analysis window for one block length: the parts of the block it covers and its
/// weights there (zero everywhere else).
///
/// A window's parts are autocorrelated each on its own and the results added, so a window
/// costs time only where it is non-zero. A punch-out window is the partial windows of all
/// parts but one side by side (each tapering to zero at its ends, so products across a part
/// boundary are dropped); its autocorrelation is therefore the sum of theirs, which the
/// encoder reuses instead of computing it again.
struct LPCWindow: Sendable {
    /// A run of the block: `weights[i]` applies to sample `start + i`.
    struct Part: Sendable {
        var start: Int
        var weights: [Double]
    }

    /// The non-zero parts, in block order.
    var parts: [Part]
    /// Σ w², the energy a unit-variance signal keeps through the window (to turn a windowed
    /// prediction error back into a per-sample variance).
    var energy: Double

    /// The window `apodization` describes, for blocks of `length` samples.
    init(_ apodization: FLACEncoderSettings.Apodization, length: Int) {
        func range(_ parts: Int, _ index: Int) -> Range<Int> { (length * index / parts)..<(length * (index + 1) / parts) }
        switch apodization {
        case .tukey(let taper):
            parts = [Part(start: 0, weights: Self.tukey(length: length, taper: taper))]
        case .partialTukey(let count, let index, let taper):
            let r = range(count, index)
            parts = [Part(start: r.lowerBound, weights: Self.tukey(length: r.count, taper: taper))]
        case .punchoutTukey(let count, let index, let taper):
            // The other parts' partial windows side by side, so the autocorrelation is the sum
            // of theirs (see ``FLACEncoderWorkspace/refine(slot:count:windows:)``).
            parts = (0..<count).filter { $0 != index }.map { other in
                let r = range(count, other)
                return Part(start: r.lowerBound, weights: Self.tukey(length: r.count, taper: taper))
            }
        }
        energy = parts.reduce(0) { sum, part in part.weights.reduce(sum) { $0 + $1 * $1 } }
    }

    /// A tukey window: a raised-cosine rise over `taper / 2` of the length, flat, then a fall.
    static func tukey(length: Int, taper: Double) -> [Double] {
        guard length > 0 else { return [] }
        var weights = [Double](repeating: 1, count: length)
        let edge = Int(taper / 2 * Double(length))
        guard edge > 0 else { return weights }
        for i in 0..<edge {
            let w = 0.5 - 0.5 * cos(Double.pi * Double(i + 1) / Double(edge + 1))
            weights[i] = w
            weights[length - 1 - i] = w
        }
        return weights
    }
}

/// Autocorrelation of windowed integer samples, the first step of LPC analysis.
enum LPCAutocorrelation {
    /// Fills `result[0...maxLag]` with the autocorrelation of `window ⋅ samples` over the block.
    ///
    /// `scratch` must hold the longest part of the window. Lags at or beyond a part's length
    /// contribute nothing for that part.
    static func compute(
        samples: UnsafePointer<Int32>, window: LPCWindow, maxLag: Int,
        scratch: UnsafeMutablePointer<Double>, result: UnsafeMutablePointer<Double>
    ) {
        for lag in 0...maxLag { result[lag] = 0 }
        for part in window.parts {
            let count = part.weights.count
            part.weights.withUnsafeBufferPointer { w in
                let source = samples + part.start
                for i in 0..<count { scratch[i] = Double(source[i]) * w[i] }
            }
            for lag in 0...min(maxLag, count - 1) {
                result[lag] += dot(scratch, scratch + lag, count - lag)
            }
        }
    }

    /// Σ a[i]·b[i] for i in 0..<count, eight lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) -> Double {
        var s0 = SIMD4<Double>(), s1 = SIMD4<Double>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 8 <= count {
            let offset = i * 8
            s0 += ra.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
                * rb.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
            s1 += ra.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
                * rb.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
            i += 8
        }
        var sum = (s0 + s1).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}
