import Testing
import TuttiAudio
@testable import TuttiFLAC

/// The encoder's building blocks: bit writing, Rice codes, header field codes, predictors.
@Suite struct FLACEncoderBitWriterTests {
    /// Runs `body` on a fresh writer and returns the bytes it wrote (padded to a byte).
    static func written(_ body: (inout BitWriter) -> Void) -> [UInt8] {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)
        defer { buffer.deallocate() }
        var writer = BitWriter(base: buffer, capacity: 1 << 20)
        body(&writer)
        writer.padToByte()
        let count = writer.flush()
        return Array(UnsafeBufferPointer(start: buffer, count: count))
    }

    @Test func fieldsAreMSBFirstAcrossWordBoundaries() {
        #expect(Self.written { $0.write(0b101, count: 3); $0.write(0b11111, count: 5) } == [0b1011_1111])
        #expect(Self.written { $0.write(1, count: 1); $0.write(0xFFFF_FFFF, count: 32); $0.write(0, count: 7) }
            == [0xFF, 0xFF, 0xFF, 0xFF, 0x80])
        #expect(Self.written { $0.write(signed: -1, count: 4); $0.write(signed: 3, count: 4) } == [0xF3])
        #expect(Self.written { $0.write(signed: Int32.min, count: 32) } == [0x80, 0, 0, 0])
        #expect(Self.written { $0.write(1, count: 1) } == [0x80])  // padded with zeros
    }

    @Test func unaryAndRiceCodes() {
        #expect(Self.written { $0.writeUnary(0) } == [0x80])
        #expect(Self.written { $0.writeUnary(9) } == [0x00, 0x40])
        #expect(Self.written { $0.writeUnary(40) } == [0, 0, 0, 0, 0, 0x80])
        // Zigzag: 0→0, -1→1, 1→2, -2→3, 5→10. With k = 2: 1 → 1|10, -2 → 1|11, 5 → 00|1|10.
        #expect(Self.written { $0.writeRice(1, parameter: 2); $0.writeRice(-2, parameter: 2); $0.writeRice(5, parameter: 2) }
            == [0b1101_1100, 0b1100_0000])
        // The block writer gives the same bits as one value at a time, long quotients included.
        let values: [Int32] = [0, -1, 1, 300, -300, 70_000, 3, -90_000, 12, 0, 5]
        for k in [0, 1, 4, 14, 20] {
            let single = Self.written { w in for v in values { w.writeRice(v, parameter: k) } }
            let block = Self.written { w in values.withUnsafeBufferPointer { w.writeRice($0.baseAddress!, count: $0.count, parameter: k) } }
            #expect(single == block, "k = \(k)")
        }
    }

    @Test func frameNumbersUseFLACsUTF8() {
        func utf8(_ value: UInt64) -> [UInt8] { Self.written { FLACEncoderWorkspace.writeUTF8(value, into: &$0) } }
        #expect(utf8(0) == [0x00])
        #expect(utf8(0x7F) == [0x7F])
        #expect(utf8(0x80) == [0xC2, 0x80])
        #expect(utf8(0x7FF) == [0xDF, 0xBF])
        #expect(utf8(0x800) == [0xE0, 0xA0, 0x80])
        #expect(utf8(0xFFFF) == [0xEF, 0xBF, 0xBF])
        #expect(utf8(0x7FFF_FFFF) == [0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF])
        #expect(utf8(0xF_FFFF_FFFF) == [0xFE, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF])
    }

    @Test func headerCodesForBlockSizesAndRates() {
        #expect(FLACEncoderWorkspace.blockSizeCode(192) == (1, 0, 0))
        #expect(FLACEncoderWorkspace.blockSizeCode(1152) == (3, 0, 0))
        #expect(FLACEncoderWorkspace.blockSizeCode(4608) == (5, 0, 0))
        #expect(FLACEncoderWorkspace.blockSizeCode(4096) == (12, 0, 0))
        #expect(FLACEncoderWorkspace.blockSizeCode(100) == (6, 99, 8))
        #expect(FLACEncoderWorkspace.blockSizeCode(1000) == (7, 999, 16))
        #expect(FLACEncoderWorkspace.sampleRateCode(48000) == (10, 0, 0))
        #expect(FLACEncoderWorkspace.sampleRateCode(44100) == (9, 0, 0))
        #expect(FLACEncoderWorkspace.sampleRateCode(12000) == (12, 12, 8))
        #expect(FLACEncoderWorkspace.sampleRateCode(11025) == (13, 11025, 16))
        #expect(FLACEncoderWorkspace.sampleRateCode(352_800) == (14, 35280, 16))
        #expect(FLACEncoderWorkspace.sampleRateCode(700_001) == (0, 0, 0))
        #expect(FLACEncoderWorkspace.sampleSizeCode(24) == 6)
        #expect(FLACEncoderWorkspace.sampleSizeCode(20) == 5)
    }

    @Test func fixedPredictorsPickTheDifferenceThatFlattensTheSignal() {
        let ramp = (0..<64).map { Int32(3 * $0 + 7) }
        let parabola = (0..<64).map { Int32($0 * $0) }
        let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: 5)
        defer { sums.deallocate() }
        #expect(ramp.withUnsafeBufferPointer { FixedPredictor.bestOrder($0.baseAddress!, count: 64, maxOrder: 4, sums: sums) } == 2)
        #expect(parabola.withUnsafeBufferPointer { FixedPredictor.bestOrder($0.baseAddress!, count: 64, maxOrder: 4, sums: sums) } == 3)
    }

    @Test func riceCostCountsZeroPartitionsAsEscapes() {
        #expect(RiceCoding.partitionCost(sum: 0, count: 100, limit: 14) == (5, RicePlan.zeroPartition))
        // 100 values summing to 100 (mean 1): k = 0 costs 100 + 100 bits.
        #expect(RiceCoding.partitionCost(sum: 100, count: 100, limit: 14).parameter <= 1)
        #expect(RiceCoding.partitionCost(sum: 1 << 40, count: 16, limit: 30).parameter > 14)
    }

    @Test func lpcQuantizationKeepsCoefficientsInRange() {
        let coefficients: [Double] = [1.8, -0.95, 0.12]
        let quantized = UnsafeMutablePointer<Int32>.allocate(capacity: 3)
        defer { quantized.deallocate() }
        let shift = coefficients.withUnsafeBufferPointer { LPC.quantize($0.baseAddress!, order: 3, precision: 12, into: quantized) }
        #expect(shift == 10)  // 1.8 · 2¹⁰ = 1843 ≤ 2047 < 1.8 · 2¹¹
        #expect((0..<3).allSatisfy { abs(quantized[$0]) <= 2047 })
        #expect(abs(Double(quantized[0]) / 1024 - 1.8) < 0.001)
    }
}
