#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Linear prediction for FLAC's LPC subframes: Levinson–Durbin, coefficient quantization and
/// the integer residual a decoder inverts exactly.
///
/// FLAC predicts sample `i` as `(Σⱼ c[j] · x[i − 1 − j]) >> shift`: the first coefficient
/// belongs to the sample just before, the shift is never negative, coefficients are signed
/// `precision`-bit integers (RFC 9639, section 9.2.6).
enum LPC {
    /// The largest order FLAC allows.
    static let maxOrder = 32

    /// Levinson–Durbin recursion on `autocorrelation[0...maxOrder]`.
    ///
    /// Writes the predictor of every order `p` in 1...maxOrder to
    /// `coefficients[(p − 1) * LPC.maxOrder ..< … + p]` and its remaining prediction error to
    /// `errors[p]` (`errors[0]` is the signal energy). Returns the highest order computed: lower
    /// than `maxOrder` when the signal is perfectly predicted earlier or the energy is zero.
    static func levinsonDurbin(
        autocorrelation r: UnsafePointer<Double>, maxOrder: Int,
        coefficients: UnsafeMutablePointer<Double>, errors: UnsafeMutablePointer<Double>
    ) -> Int {
        errors[0] = r[0]
        guard r[0] > 0 else { return 0 }
        var error = r[0]
        // `a` holds the current order's predictor; the previous order's row is read back.
        for p in 1...maxOrder {
            let row = coefficients + (p - 1) * LPC.maxOrder
            let previous = coefficients + max(p - 2, 0) * LPC.maxOrder
            var acc = r[p]
            for j in 0..<(p - 1) { acc -= previous[j] * r[p - 1 - j] }
            let reflection = acc / error
            for j in 0..<(p - 1) { row[j] = previous[j] - reflection * previous[p - 2 - j] }
            row[p - 1] = reflection
            error *= 1 - reflection * reflection
            errors[p] = error
            if !(error > 0) || !reflection.isFinite {
                errors[p] = max(error, 0)
                return reflection.isFinite ? p : p - 1
            }
        }
        return maxOrder
    }

    /// Quantizes `coefficients[0..<order]` to `precision`-bit integers with the largest shift
    /// (0...15) that keeps them in range, carrying each rounding error into the next
    /// coefficient. Returns the shift, or nil when the predictor is unusable (not finite, or
    /// all coefficients round to zero).
    static func quantize(
        _ coefficients: UnsafePointer<Double>, order: Int, precision: Int,
        into quantized: UnsafeMutablePointer<Int32>
    ) -> Int? {
        var largest = 0.0
        for j in 0..<order { largest = max(largest, abs(coefficients[j])) }
        guard largest > 0, largest.isFinite else { return nil }
        let limit = Double((1 << (precision - 1)) - 1)
        // Largest shift with largest · 2^shift ≤ limit.
        var shift = Int(floor(log2(limit / largest)))
        shift = min(max(shift, 0), 15)
        let scale = Double(1 << shift)
        var carry = 0.0
        var nonZero = false
        for j in 0..<order {
            let exact = coefficients[j] * scale + carry
            let rounded = min(max(exact.rounded(), -limit - 1), limit)
            carry = exact - rounded
            quantized[j] = Int32(rounded)
            if rounded != 0 { nonZero = true }
        }
        return nonZero ? shift : nil
    }

    /// Writes `x[i] − prediction(i)` to `residual[i]` for i in order..<count, copying the first
    /// `order` samples as they are. Returns false (residual unusable) when a residual does not
    /// fit in 32 bits.
    ///
    /// `xd` holds the same samples as doubles; `scratch` holds `count` doubles. When `|c|₁ · max|x|` stays below 2³¹ every
    /// partial sum is an integer below 2³¹, which doubles hold exactly, so the sums run in
    /// double-precision SIMD (multiplies that baseline x86-64 has for doubles but not for
    /// 32-bit integers); otherwise in 64-bit integer arithmetic with a range check.
    static func residual(
        _ x: UnsafePointer<Int32>, _ xd: UnsafePointer<Double>, count: Int, coefficients c: UnsafePointer<Int32>,
        order: Int, shift: Int, peak: Int64, scratch: UnsafeMutablePointer<Double>,
        into residual: UnsafeMutablePointer<Int32>
    ) -> Bool {
        for i in 0..<min(order, count) { residual[i] = x[i] }
        var l1: Int64 = 0
        for j in 0..<order { l1 += Int64(c[j].magnitude) }
        if l1 * peak < (1 << 31) - peak {
            residualExact(x, xd, count: count, coefficients: c, order: order, shift: shift, scratch: scratch, into: residual)
            return true
        }
        for i in order..<max(order, count) {
            var sum: Int64 = 0
            for j in 0..<order { sum += Int64(c[j]) * Int64(x[i - 1 - j]) }
            let value = Int64(x[i]) - (sum >> Int64(shift))
            guard value >= Int64(Int32.min), value <= Int64(Int32.max) else { return false }
            residual[i] = Int32(value)
        }
        return true
    }

    /// 1.5 · 2⁵²: added to an integer-valued double below 2⁵¹ in magnitude, it leaves that
    /// integer in the low bits of the result's mantissa (two's complement), so the low 32 bits
    /// of the bit pattern are the integer — a conversion that vectorizes, unlike `Int32(_:)`.
    static let integerMagic = 6_755_399_441_055_744.0

    /// The residual with sums in doubles (exact, see above): first every prediction, eight a
    /// step with two unaligned vector loads per coefficient, into `scratch`; then the residuals.
    private static func residualExact(
        _ x: UnsafePointer<Int32>, _ xd: UnsafePointer<Double>, count: Int, coefficients c: UnsafePointer<Int32>,
        order: Int, shift: Int, scratch: UnsafeMutablePointer<Double>, into residual: UnsafeMutablePointer<Int32>
    ) {
        let rawD = UnsafeRawPointer(xd)
        let sums = UnsafeMutableRawPointer(scratch)
        let magic = SIMD4<Double>(repeating: integerMagic)
        var i = order
        while i + 8 <= count {
            var low = magic, high = magic
            var offset = (i - 1) * 8
            for j in 0..<order {
                let coefficient = SIMD4<Double>(repeating: Double(c[j]))
                low += coefficient * rawD.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
                high += coefficient * rawD.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
                offset -= 8
            }
            sums.storeBytes(of: low, toByteOffset: i * 8, as: SIMD4<Double>.self)
            sums.storeBytes(of: high, toByteOffset: i * 8 + 32, as: SIMD4<Double>.self)
            i += 8
        }
        let vectorEnd = i
        let shift32 = Int32(shift)
        for i in order..<vectorEnd {
            let sum = Int32(truncatingIfNeeded: scratch[i].bitPattern)
            residual[i] = x[i] &- (sum &>> shift32)
        }
        for i in vectorEnd..<max(vectorEnd, count) {
            var sum: Int32 = 0
            for j in 0..<order { sum &+= c[j] &* x[i - 1 - j] }
            residual[i] = x[i] &- (sum &>> shift32)
        }
    }

    /// Estimated bits to code a block of `count` samples with the order-`order` predictor whose
    /// windowed prediction error is `error`, given the window's energy (see ``LPCWindow``).
    ///
    /// A Laplacian residual of variance σ² costs about ½·log₂(σ²) + ½ bits per sample in Rice
    /// code; the warm-up samples and coefficients are added exactly.
    static func estimatedBits(
        error: Double, windowEnergy: Double, count: Int, order: Int, precision: Int, sampleBits: Int
    ) -> Double {
        let variance = max(error / windowEnergy, 1e-9)
        let perSample = max(0.5 * log2(variance) + 0.5, 1)
        return perSample * Double(count - order) + Double(order * (precision + sampleBits))
    }
}
