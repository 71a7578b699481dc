import Testing
import TuttiAudio

@Suite("WAVHeader")
struct WAVHeaderTests {
    static let formats: [SampleFormat] = [
        SampleFormat(rate: 48_000, bits: 16, channels: 2),
        SampleFormat(rate: 44_100, bits: 8, channels: 1),
        SampleFormat(rate: 96_000, bits: 24, channels: 2),
        SampleFormat(rate: 48_000, bits: 32, channels: 6),
        SampleFormat(rate: 8_000, bits: 16, channels: 1),
    ]

    @Test("the codec header for 48000:16:2 is Snapcast's, byte for byte")
    func snapcastCodecHeader() {
        let bytes = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 0)
        let expected: [UInt8] = Array("RIFF".utf8) + [36, 0, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0]
            + [1, 0, 2, 0] + [0x80, 0xBB, 0, 0] + [0x00, 0xEE, 0x02, 0] + [4, 0, 16, 0]
            + Array("data".utf8) + [0, 0, 0, 0]
        #expect(bytes == expected)
    }

    @Test("24-bit headers describe 4-byte containers", arguments: [1, 2, 8])
    func twentyFourBitContainers(channels: Int) throws {
        let format = SampleFormat(rate: 48_000, bits: 24, channels: channels)
        let bytes = WAVHeader.canonicalBytes(for: format, dataSize: 0)
        #expect(Int(bytes[32]) | Int(bytes[33]) << 8 == channels * 4)  // block align
        #expect(bytes[34] == 24)  // bits
        let header = try WAVHeader.parse(bytes)
        #expect(header.format == format)
        #expect(header.bytesPerContainer == 4)
    }

    @Test("canonical headers parse back", arguments: formats)
    func roundTrip(format: SampleFormat) throws {
        let bytes = WAVHeader.canonicalBytes(for: format, dataSize: 12_345 * UInt64(format.bytesPerFrame))
        #expect(bytes.count == WAVHeader.canonicalSize)
        let header = try WAVHeader.parse(bytes)
        #expect(header.format == format)
        #expect(header.bytesPerContainer == format.bytesPerSample)
        #expect(header.dataOffset == 44)
        #expect(header.dataSize == UInt32(12_345 * format.bytesPerFrame))
        #expect(!header.isExtensible)
    }

    @Test("a streaming placeholder has unknown sizes; finalizing writes the real ones")
    func placeholderAndFinalize() throws {
        let placeholder = WAVHeader.streamingPlaceholder(for: .cd48k)
        #expect(Array(placeholder[4..<8]) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try WAVHeader.parse(placeholder).dataSize == WAVHeader.unknownSize)
        let final = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 1000)
        #expect(Array(final[4..<8]) == [0x0C, 0x04, 0, 0])  // 1036
        #expect(Array(final[40..<44]) == [0xE8, 0x03, 0, 0])
        #expect(Array(placeholder[8..<40]) == Array(final[8..<40]))
    }

    @Test("sizes beyond 32 bits are written as unknown")
    func hugeSize() throws {
        let bytes = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 5_000_000_000)
        #expect(try WAVHeader.parse(bytes).dataSize == WAVHeader.unknownSize)
        #expect(Array(bytes[4..<8]) == [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("unknown chunks are skipped, odd sizes padded")
    func skipsUnknownChunks() throws {
        let canonical = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 8)
        let list: [UInt8] = Array("LIST".utf8) + [5, 0, 0, 0] + [1, 2, 3, 4, 5] + [0]  // odd: pad byte
        let junk: [UInt8] = Array("junk".utf8) + [4, 0, 0, 0] + [9, 9, 9, 9]
        let bytes = Array(canonical[0..<12]) + list + Array(canonical[12..<36]) + junk + Array(canonical[36...])
        let header = try WAVHeader.parse(bytes)
        #expect(header.format == .cd48k)
        #expect(header.dataOffset == bytes.count)
        #expect(header.dataSize == 8)
    }

    @Test("WAVE_FORMAT_EXTENSIBLE with the PCM sub-format", arguments: [(16, 16, 2), (32, 24, 2), (24, 24, 1)])
    func extensible(containerBits: Int, validBits: Int, channels: Int) throws {
        let bytes = Self.extensibleHeader(containerBits: containerBits, validBits: validBits, channels: channels, subformat: 1)
        let header = try WAVHeader.parse(bytes)
        #expect(header.isExtensible)
        #expect(header.format == SampleFormat(rate: 48_000, bits: containerBits, channels: channels))
        #expect(header.bytesPerContainer == containerBits / 8)
        #expect(header.dataOffset == bytes.count)
    }

    @Test("float, extensible float and MP3 are refused")
    func unsupportedEncodings() {
        #expect(throws: WAVHeaderError.unsupportedEncoding(formatTag: 3)) {
            try WAVHeader.parse(Self.extensibleHeader(containerBits: 32, validBits: 32, channels: 2, subformat: 3))
        }
        var float = WAVHeader.canonicalBytes(for: SampleFormat(rate: 48_000, bits: 32, channels: 2), dataSize: 0)
        float[20] = 3
        #expect(throws: WAVHeaderError.unsupportedEncoding(formatTag: 3)) { try WAVHeader.parse(float) }
        var mp3 = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 0)
        mp3[20] = 0x55
        #expect(throws: WAVHeaderError.unsupportedEncoding(formatTag: 0x55)) { try WAVHeader.parse(mp3) }
    }

    @Test("garbage is refused with a named reason")
    func garbage() {
        #expect(throws: WAVHeaderError.notRIFF(found: "RF64")) {
            try WAVHeader.parse(Array("RF64\u{0}\u{0}\u{0}\u{0}WAVE".utf8))
        }
        #expect(throws: WAVHeaderError.notRIFF(found: "ID3?")) { try WAVHeader.parse(Array("ID3\u{4}0000WAVEfmt ".utf8)) }
        #expect(throws: WAVHeaderError.notWAVE(found: "AVI ")) { try WAVHeader.parse(Array("RIFF0000AVI LIST".utf8)) }
        #expect(throws: WAVHeaderError.truncated(needed: 12)) { try WAVHeader.parse([]) }
        let canonical = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 0)
        #expect(throws: WAVHeaderError.missingFormatChunk) {
            try WAVHeader.parse(Array(canonical[0..<12]) + Array(canonical[36...]))
        }
        var badAlign = canonical
        badAlign[32] = 3
        #expect(throws: WAVHeaderError.self) { try WAVHeader.parse(badAlign) }
        var zeroChannels = canonical
        zeroChannels[22] = 0
        #expect(throws: WAVHeaderError.malformedFormatChunk("0 channels")) { try WAVHeader.parse(zeroChannels) }
        var twelveBits = canonical
        twelveBits[34] = 12
        #expect(throws: WAVHeaderError.self) { try WAVHeader.parse(twelveBits) }
        var slowRate = canonical
        slowRate[24...27] = [10, 0, 0, 0]
        #expect(throws: WAVHeaderError.self) { try WAVHeader.parse(slowRate) }
    }

    @Test("every truncation of a valid header asks for more bytes")
    func everyPrefix() throws {
        let canonical = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 0)
        let withList = Array(canonical[0..<12]) + Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3, 0] + Array(canonical[12...])
        for length in 0..<withList.count {
            do {
                _ = try WAVHeader.parse(Array(withList[0..<length]))
                Issue.record("a \(length)-byte prefix parsed")
            } catch .truncated(let needed) {
                #expect(needed > length && needed <= withList.count)
            }
        }
        #expect(try WAVHeader.parse(withList).dataOffset == withList.count)
    }

    @Test("random bytes after a RIFF/WAVE prefix never trap")
    func randomBytes() {
        var state: UInt64 = 42
        for round in 0..<2000 {
            var bytes = Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVE".utf8)
            let length = round % 120
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            if round % 3 == 0, length >= 8 { bytes.replaceSubrange(12..<16, with: Array("fmt ".utf8)) }
            _ = try? WAVHeader.parse(bytes)
        }
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(WAVHeaderError.unsupportedEncoding(formatTag: 3).description.contains("0x3"))
        #expect(WAVHeaderError.truncated(needed: 44).description.contains("44"))
    }

    /// A 68-byte header with a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk.
    static func extensibleHeader(containerBits: Int, validBits: Int, channels: Int, subformat: UInt8) -> [UInt8] {
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func le16(_ value: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let blockAlign = channels * containerBits / 8
        var fmt = le16(0xFFFE) + le16(channels) + le32(48_000) + le32(48_000 * blockAlign) + le16(blockAlign)
        fmt += le16(containerBits) + le16(22) + le16(validBits) + le32(3)
        fmt += [subformat, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(fmt.count) + fmt + Array("data".utf8) + le32(0)
        return Array("RIFF".utf8) + le32(body.count) + body
    }
}
