/// Prediction: turning residuals back into samples (RFC 9639, sections 9.2.5 and 9.2.6).
///
/// On entry `out[0..<order]` holds the warm-up samples and `out[order..<blockSize]` the
/// residuals; each residual gets the prediction from the samples before it added, in place.
/// Arithmetic wraps, so hostile input gives garbage rather than a trap; for valid streams the
/// wrapping never changes the result (fixed predictors are exact modulo 2^32 and 2^64, and LPC
/// sums use 64 bits unless 32 provably suffice).
extension FLACFrameDecoder {
    /// Adds the fixed polynomial predictor of `order` (0...4).
    @inline(__always)
    static func restoreFixed<S: FixedWidthInteger & SignedInteger>(_ out: UnsafeMutablePointer<S>, order: Int, blockSize n: Int) {
        guard n > order else { return }
        switch order {
        case 1:
            var a = out[0]
            for i in 1..<n { a = out[i] &+ a; out[i] = a }
        case 2:
            var a = out[1], b = out[0]
            for i in 2..<n {
                let s = out[i] &+ (a &<< 1) &- b
                out[i] = s; b = a; a = s
            }
        case 3:
            var a = out[2], b = out[1], c = out[0]
            for i in 3..<n {
                let s = out[i] &+ 3 &* (a &- b) &+ c
                out[i] = s; c = b; b = a; a = s
            }
        case 4:
            var a = out[3], b = out[2], c = out[1], d = out[0]
            for i in 4..<n {
                let s = out[i] &+ ((a &+ c) &<< 2) &- 6 &* b &- d
                out[i] = s; d = c; c = b; b = a; a = s
            }
        default:
            break
        }
    }

    /// Adds the LPC prediction: `(Σ coefficients[j] · out[i−1−j]) >> shift`.
    ///
    /// `narrow` says 32-bit sums cannot overflow for samples of the subframe's size
    /// (Σ|coefficient| · 2^(bits−1) < 2^31), which allows 32-bit loops for `Int32` samples.
    @inline(__always)
    static func restoreLPC<S: FixedWidthInteger & SignedInteger>(
        _ out: UnsafeMutablePointer<S>, order: Int, blockSize n: Int, coefficients: inout LPCCoefficients, shift: Int,
        narrow: Bool
    ) {
        guard n > order else { return }
        coefficients.withPointer { c in
            if S.self == Int32.self {
                let out32 = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Int32.self)
                if narrow {
                    restoreLPC32(out32, order: order, blockSize: n, c, shift: Int32(shift))
                } else {
                    restoreLPC64(out32, order: order, blockSize: n, c, shift: Int64(shift))
                }
                return
            }
            // 33-bit side channel: 64-bit samples and sums.
            let shift = Int64(shift)
            for i in order..<n {
                var sum: Int64 = 0
                for j in 0..<order { sum &+= Int64(c[j]) &* Int64(truncatingIfNeeded: out[i - 1 - j]) }
                out[i] = out[i] &+ S(truncatingIfNeeded: sum &>> shift)
            }
        }
    }

    /// 32-bit sums for `Int32` samples; orders up to 12 use the kernels in `+LPCKernels`.
    private static func restoreLPC32(
        _ out: UnsafeMutablePointer<Int32>, order: Int, blockSize n: Int, _ c: UnsafePointer<Int32>, shift: Int32
    ) {
        if lpcKernel(out, order: order, blockSize: n, c, shift: shift, as: Int64.self) { return }
        lpc(out, order, n, c, shift, as: Int32.self)
    }

    /// 64-bit sums for `Int32` samples (high bit depths, high precision).
    private static func restoreLPC64(
        _ out: UnsafeMutablePointer<Int32>, order: Int, blockSize n: Int, _ c: UnsafePointer<Int32>, shift: Int64
    ) {
        let shift = Int32(shift)
        if lpcKernel(out, order: order, blockSize: n, c, shift: shift, as: Int64.self) { return }
        lpc(out, order, n, c, shift, as: Int64.self)
    }

    /// The general LPC loop with sums in `Sum`, for orders above 12.
    @inline(__always)
    private static func lpc<Sum: FixedWidthInteger & SignedInteger>(
        _ out: UnsafeMutablePointer<Int32>, _ order: Int, _ n: Int, _ c: UnsafePointer<Int32>, _ shift: Int32,
        as _: Sum.Type
    ) {
        // Coefficients reversed, oldest sample's first, copied so stores to `out` cannot alias them.
        var reversed = (
            Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0),
            Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0), Sum(0),
            Sum(0), Sum(0))
        withUnsafeMutableBytes(of: &reversed) { raw in
            let r = raw.baseAddress!.assumingMemoryBound(to: Sum.self)
            for j in 0..<order { r[j] = Sum(truncatingIfNeeded: c[order - 1 - j]) }
        }
        withUnsafeBytes(of: &reversed) { raw in
            let r = raw.baseAddress!.assumingMemoryBound(to: Sum.self)
            let shift = Sum(shift)
            var history = UnsafePointer(out)
            var target = out + order
            for _ in order..<n {
                var sum: Sum = 0
                for j in 0..<order { sum &+= r[j] &* Sum(truncatingIfNeeded: history[j]) }
                target.pointee = target.pointee &+ Int32(truncatingIfNeeded: sum &>> shift)
                history += 1
                target += 1
            }
        }
    }
}
