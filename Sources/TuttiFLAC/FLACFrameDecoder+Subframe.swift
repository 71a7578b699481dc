/// Subframes (RFC 9639, section 9.2): one channel of one frame.
///
/// A subframe header is a zero bit, six type bits (CONSTANT, VERBATIM, FIXED order 0–4, LPC
/// order 1–32; everything else reserved) and a wasted-bits flag followed, when set, by the
/// unary-coded count of low zero bits every sample shares. Predictive subframes carry warm-up
/// samples, then the residual (see `FLACFrameDecoder+Residual.swift`) that the predictor adds
/// back to its prediction (see `FLACFrameDecoder+Prediction.swift`).
extension FLACFrameDecoder {
    /// Decodes one subframe of `blockSize` samples of `bitsPerSample` bits (4...33) into `out`.
    ///
    /// Samples are `Int32` for up to 32 bits and `Int64` for the 33-bit side channel of a 32-bit
    /// stream; `residual` is scratch space for the latter (residuals are always 32-bit) and may
    /// be nil for `Int32`, whose residuals are decoded in place.
    static func decodeSubframe<S: FixedWidthInteger & SignedInteger>(
        _ reader: inout BitReader, into out: UnsafeMutablePointer<S>, blockSize: Int, bitsPerSample: Int,
        residual: UnsafeMutablePointer<Int32>?
    ) throws(FLACError) {
        guard try reader.read(1, "subframe padding bit") == 0 else { throw .badSubframe("padding bit is set") }
        let type = Int(try reader.read(6, "subframe type"))
        var bits = bitsPerSample
        var wasted = 0
        if try reader.read(1, "wasted bits flag") == 1 {
            wasted = try reader.readUnary("wasted bits count") + 1
            guard wasted < bits else { throw .badSubframe("\(wasted) wasted bits leave nothing of \(bits)-bit samples") }
            bits -= wasted
        }

        switch type {
        case 0:
            let value = S(truncatingIfNeeded: try reader.readSigned64(bits, "constant value"))
            for i in 0..<blockSize { out[i] = value }
        case 1:
            if bits <= 32 {
                for i in 0..<blockSize { out[i] = S(truncatingIfNeeded: try reader.readSigned(bits, "verbatim sample")) }
            } else {
                for i in 0..<blockSize { out[i] = S(truncatingIfNeeded: try reader.readSigned64(bits, "verbatim sample")) }
            }
        case 8...12:
            let order = type - 8
            try readWarmUp(&reader, into: out, order: order, blockSize: blockSize, bits: bits)
            let target = try residualTarget(out, residual, order: order)
            try decodeResidual(&reader, into: target, blockSize: blockSize, predictorOrder: order)
            widen(target, into: out, order: order, blockSize: blockSize)
            restoreFixed(out, order: order, blockSize: blockSize)
        case 32...63:
            let order = type - 31
            try readWarmUp(&reader, into: out, order: order, blockSize: blockSize, bits: bits)
            let precision = Int(try reader.read(4, "LPC precision")) + 1
            guard precision < 16 else { throw .badSubframe("LPC coefficient precision code 15 is invalid") }
            let shift = Int(try reader.readSigned(5, "LPC shift"))
            guard shift >= 0 else { throw .badSubframe("LPC shift \(shift) is negative") }
            var coefficients = LPCCoefficients()
            var magnitude: Int64 = 0
            for j in 0..<order {
                let coefficient = try reader.readSigned(precision, "LPC coefficient")
                coefficients[j] = coefficient
                magnitude += Int64(coefficient.magnitude)
            }
            let target = try residualTarget(out, residual, order: order)
            try decodeResidual(&reader, into: target, blockSize: blockSize, predictorOrder: order)
            widen(target, into: out, order: order, blockSize: blockSize)
            restoreLPC(
                out, order: order, blockSize: blockSize, coefficients: &coefficients, shift: shift,
                narrow: magnitude << (bits - 1) < Int64(Int32.max))
        default:
            throw .badSubframe("subframe type \(type) is reserved")
        }

        if wasted > 0 {
            for i in 0..<blockSize { out[i] = out[i] &<< S(wasted) }
        }
    }

    /// Reads `order` warm-up samples of `bits` bits; throws when the block is shorter.
    @inline(__always)
    private static func readWarmUp<S: FixedWidthInteger & SignedInteger>(
        _ reader: inout BitReader, into out: UnsafeMutablePointer<S>, order: Int, blockSize: Int, bits: Int
    ) throws(FLACError) {
        guard order <= blockSize else { throw .badSubframe("predictor order \(order) exceeds block size \(blockSize)") }
        for i in 0..<order { out[i] = S(truncatingIfNeeded: try reader.readSigned64(bits, "warm-up sample")) }
    }

    /// Where residuals go: in place (after the warm-up samples) for `Int32`, else the scratch.
    @inline(__always)
    private static func residualTarget<S: FixedWidthInteger & SignedInteger>(
        _ out: UnsafeMutablePointer<S>, _ residual: UnsafeMutablePointer<Int32>?, order: Int
    ) throws(FLACError) -> UnsafeMutablePointer<Int32> {
        if S.self == Int32.self {
            return UnsafeMutableRawPointer(out + order).assumingMemoryBound(to: Int32.self)
        }
        guard let residual else { throw .badSubframe("no residual buffer for wide samples") }
        return residual
    }

    /// Copies scratch residuals into `out` after the warm-up (nothing to do for in-place `Int32`).
    @inline(__always)
    private static func widen<S: FixedWidthInteger & SignedInteger>(
        _ residual: UnsafeMutablePointer<Int32>, into out: UnsafeMutablePointer<S>, order: Int, blockSize: Int
    ) {
        if S.self == Int32.self { return }
        for i in 0..<(blockSize - order) { out[order + i] = S(truncatingIfNeeded: residual[i]) }
    }
}

extension FLACFrameDecoder {
    /// Up to 32 quantized LPC coefficients, inline so decoding a subframe allocates nothing.
    struct LPCCoefficients {
        private var storage: (
            Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
            Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        subscript(index: Int) -> Int32 {
            get { withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index * 4, as: Int32.self) } }
            set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: index * 4, as: Int32.self) } }
        }

        /// Calls `body` with the coefficients as a pointer to 32 values.
        mutating func withPointer<R>(_ body: (UnsafePointer<Int32>) -> R) -> R {
            withUnsafeMutableBytes(of: &storage) { body(UnsafePointer($0.baseAddress!.assumingMemoryBound(to: Int32.self))) }
        }
    }
}
