import Testing
@testable import TuttiFLAC

/// Variable-block-size streams, which the `flac` tool does not write: made here by splicing
/// frames of two fixed-block encodings and rewriting their headers to carry sample numbers.
struct FLACDecoderVariableBlockTests {
    /// The UTF-8-like coding of a frame or sample number (1...7 bytes, up to 36 bits).
    static func codedNumber(_ value: UInt64) -> [UInt8] {
        if value < 0x80 { return [UInt8(value)] }
        var extra = 1
        while extra < 6, value >= 1 << UInt64(6 * extra + 6 - extra) { extra += 1 }
        if value >= 1 << 31 { extra = 6 }
        let lead: UInt8 = extra == 6 ? 0xFE : UInt8(truncatingIfNeeded: 0xFF00 >> (extra + 1))
        var bytes = [lead | UInt8(truncatingIfNeeded: value >> UInt64(6 * extra))]
        for i in stride(from: extra - 1, through: 0, by: -1) { bytes.append(0x80 | UInt8((value >> UInt64(6 * i)) & 0x3F)) }
        return bytes
    }

    /// The frame at `range` of `file` with the variable-block-size bit set and `sampleNumber`
    /// in place of its frame number; both CRCs recomputed.
    static func rewrite(_ file: [UInt8], _ range: Range<Int>, sampleNumber: UInt64) -> [UInt8] {
        let start = range.lowerBound
        let first = file[start + 4]
        let numberLength = first < 0x80 ? 1 : (first < 0xE0 ? 2 : (first < 0xF0 ? 3 : (first < 0xF8 ? 4 : (first < 0xFC ? 5 : 6))))
        let header = file.withUnsafeBytes { try! FLACFrameHeader.parse($0, at: start, streamInfo: nil) }
        let tailStart = start + 4 + numberLength
        let tailEnd = start + header.byteCount - 1
        var out = [0xFF, 0xF9, file[start + 2], file[start + 3]] + codedNumber(sampleNumber) + Array(file[tailStart..<tailEnd])
        out.append(CRC8.checksum(out))
        out += file[(start + header.byteCount)..<(range.upperBound - 2)]
        let crc = CRC16.checksum(out)
        return out + [UInt8(crc >> 8), UInt8(crc & 0xFF)]
    }

    @Test func codedNumbers() throws {
        for value: UInt64 in [0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x1_0000, 0x1F_FFFF, 0x20_0000, 0x3FF_FFFF, 0x400_0000, 0x7FFF_FFFF, 0x8000_0000, 0xF_FFFF_FFFF] {
            var bytes: [UInt8] = [0xFF, 0xF9, 0xC9, 0x08] + Self.codedNumber(value)
            bytes.append(CRC8.checksum(bytes))
            let header = try bytes.withUnsafeBytes { raw throws in try FLACFrameHeader.parse(raw, at: 0, streamInfo: nil) }
            #expect(header.number == value)
            #expect(header.variableBlockSize)
            #expect(header.byteCount == bytes.count)
        }
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing))
    func splicedVariableBlockStreamDecodesExactly() throws {
        let source = FLACDecoderMaterial.make(.music, frames: 40_000, channels: 2, bits: 16)
        let small = try FLACTool.encode(source, bits: 16, rate: 44_100, options: ["-5", "--blocksize=1024"])
        let large = try FLACTool.encode(source, bits: 16, rate: 44_100, options: ["-8", "--blocksize=4096"])
        let smallFrames = try FLACStreamDecoder.decode(small).frames
        let largeFrames = try FLACStreamDecoder.decode(large).frames
        func range(_ frames: [FLACStreamDecoder.DecodedFrame], _ i: Int, _ file: [UInt8]) -> Range<Int> {
            frames[i].byteOffset..<(i + 1 < frames.count ? frames[i + 1].byteOffset : file.count)
        }
        let audioOffset = smallFrames[0].byteOffset
        var stream = Array(small[..<audioOffset])
        // Samples 0..<4096 from four 1024-blocks, then 4096-blocks, then the 1024-blocks again
        // from sample 16384 on: block sizes change twice.
        for i in 0..<4 { stream += Self.rewrite(small, range(smallFrames, i, small), sampleNumber: UInt64(i * 1024)) }
        for i in 1..<4 { stream += Self.rewrite(large, range(largeFrames, i, large), sampleNumber: UInt64(i * 4096)) }
        for i in 16..<smallFrames.count { stream += Self.rewrite(small, range(smallFrames, i, small), sampleNumber: UInt64(i * 1024)) }

        let result = try FLACStreamDecoder.decode(stream)
        #expect(result.damagedFrames == 0, "\(result.errors)")
        #expect(result.frames.allSatisfy { $0.header.variableBlockSize })
        #expect(result.frames.map(\.header.blockSize).prefix(8) == [1024, 1024, 1024, 1024, 4096, 4096, 4096, 1024])
        for frame in result.frames {
            #expect(Int(frame.header.number) == frame.outputOffset)
        }
        #expect(result.samples == source)
    }
}
