/// One FLAC frame: header, a subframe per channel, CRC-16 footer (RFC 9639, section 9).
///
/// Frames use the fixed-blocksize strategy, so the header carries the frame number (UTF-8
/// coded); every header field that has a code for the stream's value uses it, so a decoder
/// joining mid-stream needs no STREAMINFO.
extension FLACEncoderWorkspace {
    /// The four ways of coding a stereo pair: (first slot, second slot, channel assignment).
    /// Slots 0 and 1 are left and right, 2 is mid, 3 is side.
    private static let stereoPairs: [(Int, Int, UInt32)] = [(0, 1, 1), (0, 3, 8), (3, 1, 9), (2, 3, 10)]

    /// Encodes the `count` samples per channel already in the channel slots (see
    /// ``samples(_:)``) as frame number `frameNumber`, into ``output``; returns its length.
    func encodeFrame(count n: Int, frameNumber: UInt64, sampleRate: Int) -> Int {
        precondition(n > 0 && n <= capacity, "block of \(n) samples does not fit the workspace")
        let bits = bitsPerSample
        var assignment = UInt32(channels - 1)
        var first = 0, second = 1
        // Stereo decorrelation needs a 33-bit side channel for 32-bit audio; FIXED and LPC stop
        // at 27 bits anyway, so 32-bit stereo is coded independently.
        if channels == 2 && settings.stereo != .independent && bits < 32 {
            let left = samples(0), right = samples(1), mid = samples(2), side = samples(3)
            for i in 0..<n {
                mid[i] = (left[i] &+ right[i]) >> 1
                side[i] = left[i] &- right[i]
            }
            if settings.stereo == .exhaustive {
                let early = settings.choosePairEarly && settings.apodizations.count > 1
                for slot in 0..<4 {
                    analyze(slot: slot, count: n, sampleBits: slot == 3 ? bits + 1 : bits, windows: early ? 0..<1 : nil)
                }
                var smallest = Int.max
                for (a, b, code) in Self.stereoPairs where plans[a].bits + plans[b].bits < smallest {
                    smallest = plans[a].bits + plans[b].bits
                    (first, second, assignment) = (a, b, code)
                }
                if early {
                    refine(slot: first, count: n, windows: 1..<settings.apodizations.count)
                    refine(slot: second, count: n, windows: 1..<settings.apodizations.count)
                }
            } else {
                (first, second, assignment) = adaptivePair(count: n)
                analyze(slot: first, count: n, sampleBits: first == 3 ? bits + 1 : bits)
                analyze(slot: second, count: n, sampleBits: second == 3 ? bits + 1 : bits)
            }
        } else {
            for slot in 0..<channels { analyze(slot: slot, count: n, sampleBits: bits) }
        }

        var writer = BitWriter(base: output, capacity: outputCapacity)
        writeHeader(count: n, frameNumber: frameNumber, sampleRate: sampleRate, assignment: assignment, into: &writer)
        if channels == 2 {
            writeSubframe(slot: first, count: n, into: &writer)
            writeSubframe(slot: second, count: n, into: &writer)
        } else {
            for slot in 0..<channels { writeSubframe(slot: slot, count: n, into: &writer) }
        }
        writer.padToByte()
        let length = writer.flush()
        let crc = CRC16.checksum(UnsafeRawBufferPointer(start: output, count: length))
        output[length] = UInt8(crc >> 8)
        output[length + 1] = UInt8(truncatingIfNeeded: crc)
        return length + 2
    }

    /// The adaptive (`-M`-like) choice: the pair whose channels' second-order fixed residuals
    /// are smallest, estimated as Σ count·log₂(mean |residual|) without coding anything.
    private func adaptivePair(count n: Int) -> (Int, Int, UInt32) {
        var estimate = (0.0, 0.0, 0.0, 0.0)
        for slot in 0..<4 {
            FixedPredictor.absoluteSums(samples(slot), count: n, into: partitionSums)
            let sum = min(partitionSums[1], partitionSums[2], partitionSums[3])
            let bits = Double(n) * log2Approximation(Double(sum) / Double(max(n, 1)) + 1)
            switch slot {
            case 0: estimate.0 = bits
            case 1: estimate.1 = bits
            case 2: estimate.2 = bits
            default: estimate.3 = bits
            }
        }
        let (l, r, m, s) = estimate
        var best = (bits: l + r, pair: 0)
        if l + s < best.bits { best = (l + s, 1) }
        if s + r < best.bits { best = (s + r, 2) }
        if m + s < best.bits { best = (m + s, 3) }
        return Self.stereoPairs[best.pair]
    }

    /// log₂ to within a few hundredths, from the exponent and a short series on the mantissa.
    @inline(__always)
    private func log2Approximation(_ value: Double) -> Double {
        let exponent = Double(value.exponent)
        let mantissa = value.significand  // 1 ≤ m < 2
        let t = mantissa - 1
        return exponent + t * (1.4425 - t * (0.7213 - t * 0.2787))
    }

    /// Writes the frame header and its CRC-8.
    private func writeHeader(count n: Int, frameNumber: UInt64, sampleRate: Int, assignment: UInt32, into writer: inout BitWriter) {
        let (sizeCode, sizeExtra, sizeExtraBits) = Self.blockSizeCode(n)
        let (rateCode, rateExtra, rateExtraBits) = Self.sampleRateCode(sampleRate)
        writer.write(0xFFF8, count: 16)  // sync, reserved bit, fixed-blocksize strategy
        writer.write(sizeCode << 4 | rateCode, count: 8)
        writer.write(assignment << 4 | Self.sampleSizeCode(bitsPerSample) << 1, count: 8)
        Self.writeUTF8(frameNumber & 0x7FFF_FFFF, into: &writer)
        if sizeExtraBits > 0 { writer.write(sizeExtra, count: sizeExtraBits) }
        if rateExtraBits > 0 { writer.write(rateExtra, count: rateExtraBits) }
        let headerLength = writer.flush()
        writer.write(UInt32(CRC8.checksum(UnsafeRawBufferPointer(start: output, count: headerLength))), count: 8)
    }

    /// The 4-bit block size code, and the explicit value (size − 1) with its width when the
    /// size has no code of its own.
    static func blockSizeCode(_ n: Int) -> (UInt32, UInt32, Int) {
        switch n {
        case 192: return (1, 0, 0)
        case 576, 1152, 2304, 4608: return (UInt32(2 + (n / 576).trailingZeroBitCount), 0, 0)
        case 256, 512, 1024, 2048, 4096, 8192, 16384, 32768: return (UInt32(n.trailingZeroBitCount), 0, 0)
        case ...256: return (6, UInt32(n - 1), 8)
        default: return (7, UInt32(n - 1), 16)
        }
    }

    /// The 4-bit sample rate code, and an explicit value with its width for uncoded rates
    /// (code 0, "see STREAMINFO", only when none fits).
    static func sampleRateCode(_ rate: Int) -> (UInt32, UInt32, Int) {
        if let code = rateCodes[rate] { return (code, 0, 0) }
        if rate % 1000 == 0 && rate / 1000 <= 255 { return (12, UInt32(rate / 1000), 8) }
        if rate <= 65535 { return (13, UInt32(rate), 16) }
        if rate % 10 == 0 && rate / 10 <= 65535 { return (14, UInt32(rate / 10), 16) }
        return (0, 0, 0)
    }

    /// The sample rates with a code of their own.
    private static let rateCodes: [Int: UInt32] = [
        88200: 1, 176_400: 2, 192_000: 3, 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8,
        44100: 9, 48000: 10, 96000: 11,
    ]

    /// The 3-bit sample size code (0, "see STREAMINFO", for sizes without one).
    static func sampleSizeCode(_ bits: Int) -> UInt32 {
        switch bits {
        case 8: 1
        case 12: 2
        case 16: 4
        case 20: 5
        case 24: 6
        case 32: 7
        default: 0
        }
    }

    /// Writes `value` (below 2³⁶) in FLAC's extended UTF-8 coding: one byte below 128, else a
    /// lead byte with as many leading ones as bytes, then 6-bit continuation bytes.
    static func writeUTF8(_ value: UInt64, into writer: inout BitWriter) {
        if value < 0x80 {
            writer.write(UInt32(value), count: 8)
            return
        }
        var continuation = 1
        while continuation < 6 && value >= (1 << UInt64(5 * continuation + 6)) { continuation += 1 }
        let leadValueBits = 6 - continuation
        let lead = (UInt32(0xFF) << UInt32(7 - continuation)) & 0xFF
        writer.write(lead | UInt32(value >> UInt64(6 * continuation)) & ((1 << UInt32(leadValueBits)) - 1), count: 8)
        for k in stride(from: continuation - 1, through: 0, by: -1) {
            writer.write(0x80 | UInt32((value >> UInt64(6 * k)) & 0x3F), count: 8)
        }
    }
}
