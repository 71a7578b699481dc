import Testing
import TuttiAudio
@testable import TuttiFLAC

/// MSB-first bit writing for hand-made frames (the tests' own, independent of the encoder's).
struct FLACDecoderTestBits {
    var bytes: [UInt8] = []
    private var pending: UInt64 = 0
    private var pendingBits = 0

    mutating func put(_ value: UInt64, _ bits: Int) {
        for i in stride(from: bits - 1, through: 0, by: -1) {
            pending = pending << 1 | (value >> UInt64(i) & 1)
            pendingBits += 1
            if pendingBits == 8 { bytes.append(UInt8(pending)); pending = 0; pendingBits = 0 }
        }
    }
    mutating func put(signed value: Int64, _ bits: Int) { put(UInt64(bitPattern: value) & (bits == 64 ? .max : (1 << UInt64(bits)) - 1), bits) }
    mutating func putUnary(_ zeros: Int) { for _ in 0..<zeros { put(0, 1) }; put(1, 1) }
    mutating func putRice(_ value: Int32, _ k: Int) {
        let u = UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
        putUnary(Int(u >> UInt64(k)))
        put(u & ((1 << UInt64(k)) - 1), k)
    }
    mutating func padToByte() { while pendingBits != 0 { put(0, 1) } }
}

/// Hand-made frames: the coding kinds the reference encoder rarely or never writes, and the
/// reserved values a decoder must refuse.
struct FLACDecoderFrameTests {
    /// A frame: 8-bit explicit block size, 44.1 kHz, `channelCode`, 16-bit samples (code 4),
    /// frame number 0, then `body`'s subframe bits, padding and CRC-16.
    static func frame(
        blockSize: Int, channelCode: UInt64 = 0, sizeCode: UInt64 = 4, rateCode: UInt64 = 9, blockingBit: UInt64 = 0,
        body: (inout FLACDecoderTestBits) -> Void
    ) -> [UInt8] {
        var bits = FLACDecoderTestBits()
        bits.put(0xFFF8 | blockingBit, 16)
        bits.put(6, 4)
        bits.put(rateCode, 4)
        bits.put(channelCode, 4)
        bits.put(sizeCode, 3)
        bits.put(0, 1)
        bits.put(0, 8)  // number 0
        bits.put(UInt64(blockSize - 1), 8)
        bits.put(UInt64(CRC8.checksum(bits.bytes)), 8)
        body(&bits)
        bits.padToByte()
        bits.put(UInt64(CRC16.checksum(bits.bytes)), 16)
        return bits.bytes
    }

    static func decode(_ frame: [UInt8]) throws(FLACError) -> FLACDecodedFrame {
        var decoder = FLACDecoder(streamInfo: FLACStreamInfo(minBlockSize: 16, maxBlockSize: 4096, sampleRate: 44_100, channels: 1, bitsPerSample: 16))
        let frames = try decoder.decodeFrames(frame)
        guard frames.count == 1 else { throw .lostSync }
        return frames[0]
    }

    @Test func constantAndVerbatim() throws {
        let constant = Self.frame(blockSize: 32) { b in b.put(0b0_000000_0, 8); b.put(signed: -1234, 16) }
        #expect(try Self.decode(constant).samples == [[Int32](repeating: -1234, count: 32)])
        let values: [Int32] = (0..<20).map { Int32($0 * 3000 - 30000) }
        let verbatim = Self.frame(blockSize: 20) { b in
            b.put(0b0_000001_0, 8)
            for v in values { b.put(signed: Int64(v), 16) }
        }
        #expect(try Self.decode(verbatim).samples == [values])
    }

    /// FIXED order 2 with escaped partitions (plain binary residuals, and zero-width ones) in
    /// both Rice methods, next to ordinary Rice partitions.
    @Test(arguments: [0, 1])
    func escapedPartitions(method: Int) throws {
        let n = 32
        let residuals: [Int32] = (0..<(n - 2)).map { (i: Int) -> Int32 in
            if i < 14 { return Int32(i * 37 % 50) - 25 }
            return i < 22 ? 0 : Int32(i) - 27
        }
        let frame = Self.frame(blockSize: n) { b in
            b.put(0b0_001010_0, 8)  // FIXED, order 2
            b.put(signed: 100, 16)
            b.put(signed: 90, 16)
            b.put(UInt64(method), 2)
            b.put(2, 4)  // 4 partitions of 8
            let escape: UInt64 = method == 0 ? 15 : 31
            let parameterBits = method == 0 ? 4 : 5
            b.put(escape, parameterBits)  // partition 0: escaped, 7-bit values
            b.put(7, 5)
            for r in residuals[0..<6] { b.put(signed: Int64(r), 7) }
            b.put(escape, parameterBits)  // partition 1: escaped, 7-bit values
            b.put(7, 5)
            for r in residuals[6..<14] { b.put(signed: Int64(r), 7) }
            b.put(escape, parameterBits)  // partition 2: escaped, width 0: all zero
            b.put(0, 5)
            b.put(2, parameterBits)  // partition 3: Rice k = 2
            for r in residuals[22..<30] { b.putRice(r, 2) }
        }
        var expected: [Int32] = [100, 90]
        for r in residuals { expected.append(r + 2 * expected[expected.count - 1] - expected[expected.count - 2]) }
        #expect(try Self.decode(frame).samples == [expected])
    }

    /// LPC order 3 with wasted bits, checked against a direct computation.
    @Test func lpcWithWastedBits() throws {
        let coefficients: [Int32] = [900, -300, 100]  // newest sample first
        let shift = 9
        let residuals: [Int32] = (0..<29).map { Int32(($0 * 7919) % 41) - 20 }
        let frame = Self.frame(blockSize: 32) { b in
            b.put(0b0_100010_1, 8)  // LPC order 3, wasted bits follow
            b.putUnary(1)  // 2 wasted bits
            for w in [10, -5, 3] { b.put(signed: Int64(w), 14) }
            b.put(12 - 1, 4)  // precision 12
            b.put(signed: Int64(shift), 5)
            for c in coefficients { b.put(signed: Int64(c), 12) }
            b.put(0, 2)
            b.put(0, 4)
            b.put(3, 4)
            for r in residuals { b.putRice(r, 3) }
        }
        var expected: [Int32] = [10, -5, 3]
        for r in residuals {
            let n = expected.count
            let sum = coefficients[0] * expected[n - 1] + coefficients[1] * expected[n - 2] + coefficients[2] * expected[n - 3]
            expected.append(r + (sum >> Int32(shift)))
        }
        #expect(try Self.decode(frame).samples == [expected.map { $0 << 2 }])
    }

    @Test func invalidValuesAreRefused() {
        func expectError(_ frame: [UInt8], _ matches: (FLACError) -> Bool, _ what: String) {
            do {
                _ = try Self.decode(frame)
                Issue.record("\(what): decoded")
            } catch {
                #expect(matches(error), "\(what): \(error)")
            }
        }
        let lpcNegativeShift = Self.frame(blockSize: 16) { b in
            b.put(0b0_100000_0, 8); b.put(0, 16); b.put(11, 4); b.put(signed: -3, 5); b.put(0, 12)
        }
        expectError(lpcNegativeShift, { if case .badSubframe = $0 { true } else { false } }, "negative LPC shift")
        let reservedType = Self.frame(blockSize: 16) { b in b.put(0b0_000010_0, 8) }
        expectError(reservedType, { if case .badSubframe = $0 { true } else { false } }, "reserved subframe type")
        let fixedOrder5 = Self.frame(blockSize: 16) { b in b.put(0b0_001101_0, 8) }
        expectError(fixedOrder5, { if case .badSubframe = $0 { true } else { false } }, "FIXED order 5")
        let reservedMethod = Self.frame(blockSize: 16) { b in b.put(0b0_001000_0, 8); b.put(2, 2) }
        expectError(reservedMethod, { if case .badResidual = $0 { true } else { false } }, "residual method 2")
        let badPartitions = Self.frame(blockSize: 20) { b in b.put(0b0_001000_0, 8); b.put(0, 2); b.put(3, 4) }
        expectError(badPartitions, { if case .badResidual = $0 { true } else { false } }, "20 samples in 8 partitions")
        let reservedChannels = Self.frame(blockSize: 16, channelCode: 11) { _ in }
        expectError(reservedChannels, { if case .badFrameHeader = $0 { true } else { false } }, "channel assignment 11")
        let reservedSize = Self.frame(blockSize: 16, sizeCode: 3) { _ in }
        expectError(reservedSize, { if case .badFrameHeader = $0 { true } else { false } }, "sample size code 3")
        let invalidRate = Self.frame(blockSize: 16, rateCode: 15) { _ in }
        expectError(invalidRate, { if case .badFrameHeader = $0 { true } else { false } }, "sample rate code 15")
        let stereo = Self.frame(blockSize: 16, channelCode: 1) { _ in }
        expectError(stereo, { if case .streamMismatch = $0 { true } else { false } }, "stereo frame in a mono stream")
        var badCRC = Self.frame(blockSize: 16) { b in b.put(0b0_000000_0, 8); b.put(0, 16) }
        badCRC[badCRC.count - 1] ^= 1
        expectError(badCRC, { if case .frameCRCMismatch = $0 { true } else { false } }, "CRC-16")
        expectError([0x12, 0x34, 0x56], { $0 == .lostSync }, "no sync code")
    }

    @Test func floatsAreScaledExactly() throws {
        let frame = Self.frame(blockSize: 16) { b in b.put(0b0_000000_0, 8); b.put(signed: -32768, 16) }
        var decoder = FLACDecoder(streamInfo: FLACStreamInfo(minBlockSize: 16, maxBlockSize: 16, sampleRate: 44_100, channels: 1, bitsPerSample: 16))
        #expect(decoder.format == SampleFormat(rate: 44_100, bits: 16, channels: 1))
        #expect(try frame.withUnsafeBytes { try decoder.decode($0) } == [Float](repeating: -1, count: 16))
    }

    @Test func bitReaderEdges() throws {
        let bytes: [UInt8] = [0b1010_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0b0000_0001, 0xFF, 0x80]
        try bytes.withUnsafeBytes { raw throws in
            var reader = BitReader(raw)
            #expect(try reader.read(1) == 1)
            #expect(try reader.readSigned(2) == 1)
            // 76 zero bits then a one: a unary run across several refills.
            #expect(try reader.readUnary() == 76)
            #expect(try reader.readSigned(9) == -1)
            #expect(reader.bitsLeft == 7)
            #expect(try reader.read(7) == 0)
            #expect(reader.bitsLeft == 0)
            #expect(throws: FLACError.self) { try reader.read(1) }
            #expect(throws: FLACError.self) { try reader.readUnary() }
            #expect(reader.bitsLeft == 0)
        }
        let wide: [UInt8] = [0x80, 0, 0, 0, 0x40]
        try wide.withUnsafeBytes { raw throws in
            var reader = BitReader(raw)
            #expect(try reader.readSigned64(33) == -(1 << 32))
        }
    }
}
