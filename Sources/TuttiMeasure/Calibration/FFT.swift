import Foundation

/// An in-place iterative radix-2 complex FFT over split real and imaginary arrays, and the
/// cross-correlation built on it. Sizes are powers of two.
struct FFT {
    let size: Int
    private let cosines: [Double]
    private let sines: [Double]
    private let reversed: [Int]

    init(size: Int) {
        precondition(size >= 2 && size & (size - 1) == 0, "an FFT size is a power of two")
        self.size = size
        cosines = (0..<size / 2).map { cos(-2 * Double.pi * Double($0) / Double(size)) }
        sines = (0..<size / 2).map { sin(-2 * Double.pi * Double($0) / Double(size)) }
        let bits = size.trailingZeroBitCount
        reversed = (0..<size).map { index in
            var result = 0
            for bit in 0..<bits where index & (1 << bit) != 0 { result |= 1 << (bits - 1 - bit) }
            return result
        }
    }

    /// The smallest power of two at least `count`.
    static func size(atLeast count: Int) -> Int {
        var size = 2
        while size < count { size <<= 1 }
        return size
    }

    /// Transforms in place; `inverse` conjugates the twiddles and divides by the size.
    func transform(_ real: inout [Double], _ imaginary: inout [Double], inverse: Bool = false) {
        precondition(real.count == size && imaginary.count == size)
        for index in 0..<size where index < reversed[index] {
            real.swapAt(index, reversed[index])
            imaginary.swapAt(index, reversed[index])
        }
        let direction: Double = inverse ? -1 : 1
        var span = 1
        while span < size {
            let step = size / (2 * span)
            var start = 0
            while start < size {
                for offset in 0..<span {
                    let twiddle = offset * step
                    let wr = cosines[twiddle]
                    let wi = direction * sines[twiddle]
                    let a = start + offset
                    let b = a + span
                    let tr = wr * real[b] - wi * imaginary[b]
                    let ti = wr * imaginary[b] + wi * real[b]
                    real[b] = real[a] - tr
                    imaginary[b] = imaginary[a] - ti
                    real[a] += tr
                    imaginary[a] += ti
                }
                start += 2 * span
            }
            span *= 2
        }
        if inverse {
            let scale = 1 / Double(size)
            for index in 0..<size {
                real[index] *= scale
                imaginary[index] *= scale
            }
        }
    }

    /// c[k] = Σ signal[k + i] · template[i] for k in 0 ... signal.count − template.count (the
    /// template slid along the signal).
    static func crossCorrelation(_ signal: [Float], _ template: [Float]) -> [Double] {
        guard !template.isEmpty, signal.count >= template.count else { return [] }
        let fft = FFT(size: size(atLeast: signal.count + template.count))
        var sr = [Double](repeating: 0, count: fft.size)
        var si = [Double](repeating: 0, count: fft.size)
        var tr = [Double](repeating: 0, count: fft.size)
        var ti = [Double](repeating: 0, count: fft.size)
        for (index, value) in signal.enumerated() { sr[index] = Double(value) }
        for (index, value) in template.enumerated() { tr[index] = Double(value) }
        fft.transform(&sr, &si)
        fft.transform(&tr, &ti)
        // Signal times the template's conjugate.
        for index in 0..<fft.size {
            let real = sr[index] * tr[index] + si[index] * ti[index]
            let imaginary = si[index] * tr[index] - sr[index] * ti[index]
            sr[index] = real
            si[index] = imaginary
        }
        fft.transform(&sr, &si, inverse: true)
        return Array(sr[0...(signal.count - template.count)])
    }
}
