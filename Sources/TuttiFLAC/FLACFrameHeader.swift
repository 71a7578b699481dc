/// How a frame's channels are stored (RFC 9639, section 9.1.3).
public enum FLACChannelAssignment: Equatable, Sendable {
    /// 1...8 channels, each coded on its own.
    case independent(Int)
    /// Stereo: left, then side (left − right).
    case leftSide
    /// Stereo: side (left − right), then right.
    case rightSide
    /// Stereo: mid ((left + right) >> 1), then side (left − right).
    case midSide

    /// Channels the frame decodes to.
    public var channels: Int {
        if case .independent(let count) = self { return count }
        return 2
    }

    /// Which subframe carries the side channel (coded with one bit more), if any.
    var sideChannel: Int? {
        switch self {
        case .independent: nil
        case .leftSide, .midSide: 1
        case .rightSide: 0
        }
    }
}

/// A parsed frame header (RFC 9639, section 9.1): everything before the first subframe.
///
/// Fields the header defers to STREAMINFO ("from STREAMINFO" sample rate or sample size) are
/// filled in from it; without STREAMINFO such a header is refused.
public struct FLACFrameHeader: Equatable, Sendable {
    /// True for a variable-block-size stream: ``number`` is then the first sample's number.
    public var variableBlockSize: Bool
    /// Samples per channel in the frame, 1...65536.
    public var blockSize: Int
    /// Samples per second.
    public var sampleRate: Int
    /// How the channels are coded.
    public var channelAssignment: FLACChannelAssignment
    /// Bits per (decoded) sample, 4...32.
    public var bitsPerSample: Int
    /// The frame number (fixed block size) or first sample number (variable block size).
    public var number: UInt64
    /// The header's length in bytes, CRC-8 included.
    public var byteCount: Int

    /// Channels the frame decodes to.
    public var channels: Int { channelAssignment.channels }
}

extension FLACFrameHeader {
    /// Parses the frame header that starts at `offset` in `bytes`, checking its CRC-8.
    ///
    /// Throws ``FLACError/lostSync`` when no sync code is there, ``FLACError/endOfData(_:)`` when
    /// the header is cut off, ``FLACError/badFrameHeader(_:)`` for reserved values and
    /// ``FLACError/headerCRCMismatch(expected:computed:)`` when the CRC-8 fails.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, streamInfo: FLACStreamInfo?
    ) throws(FLACError) -> FLACFrameHeader {
        let available = bytes.count - offset
        guard offset >= 0, available >= 2 else { throw .endOfData("frame header needs at least 2 bytes") }
        guard bytes[offset] == 0xFF, bytes[offset + 1] & 0xFE == 0xF8 else { throw .lostSync }
        guard available >= 6 else { throw .endOfData("frame header is cut off") }
        let variable = bytes[offset + 1] & 1 == 1
        let blockCode = Int(bytes[offset + 2] >> 4)
        let rateCode = Int(bytes[offset + 2] & 0x0F)
        let channelCode = Int(bytes[offset + 3] >> 4)
        let sizeCode = Int(bytes[offset + 3] >> 1) & 0x7
        guard bytes[offset + 3] & 1 == 0 else { throw .badFrameHeader("reserved bit after the sample size is set") }

        // Coded number: UTF-8-like, 1...7 bytes (frame numbers use at most 6, 31 bits).
        var position = offset + 4
        let first = bytes[position]
        let extra: Int
        var number: UInt64
        switch first {
        case 0x00...0x7F: extra = 0; number = UInt64(first)
        case 0xC0...0xDF: extra = 1; number = UInt64(first & 0x1F)
        case 0xE0...0xEF: extra = 2; number = UInt64(first & 0x0F)
        case 0xF0...0xF7: extra = 3; number = UInt64(first & 0x07)
        case 0xF8...0xFB: extra = 4; number = UInt64(first & 0x03)
        case 0xFC...0xFD: extra = 5; number = UInt64(first & 0x01)
        case 0xFE: extra = 6; number = 0
        default: throw .badFrameHeader("coded number starts with invalid byte \(first)")
        }
        if !variable && extra > 5 { throw .badFrameHeader("frame number is longer than 31 bits") }
        position += 1
        guard bytes.count - position >= extra else { throw .endOfData("coded number is cut off") }
        for _ in 0..<extra {
            let byte = bytes[position]
            guard byte & 0xC0 == 0x80 else { throw .badFrameHeader("coded number continuation byte \(byte) is not 10xxxxxx") }
            number = number << 6 | UInt64(byte & 0x3F)
            position += 1
        }

        func readTail(_ count: Int, _ what: String) throws(FLACError) -> Int {
            guard bytes.count - position >= count else { throw .endOfData("\(what) is cut off") }
            var value = 0
            for _ in 0..<count { value = value << 8 | Int(bytes[position]); position += 1 }
            return value
        }

        let blockSize: Int
        switch blockCode {
        case 0: throw .badFrameHeader("block size code 0 is reserved")
        case 1: blockSize = 192
        case 2...5: blockSize = 576 << (blockCode - 2)
        case 6: blockSize = try readTail(1, "8-bit block size") + 1
        case 7: blockSize = try readTail(2, "16-bit block size") + 1
        default: blockSize = 256 << (blockCode - 8)
        }

        let sampleRate: Int
        switch rateCode {
        case 0:
            guard let streamInfo else { throw .badFrameHeader("sample rate is 'from STREAMINFO' but there is none") }
            sampleRate = streamInfo.sampleRate
        case 1: sampleRate = 88_200
        case 2: sampleRate = 176_400
        case 3: sampleRate = 192_000
        case 4: sampleRate = 8_000
        case 5: sampleRate = 16_000
        case 6: sampleRate = 22_050
        case 7: sampleRate = 24_000
        case 8: sampleRate = 32_000
        case 9: sampleRate = 44_100
        case 10: sampleRate = 48_000
        case 11: sampleRate = 96_000
        case 12: sampleRate = try readTail(1, "8-bit sample rate") * 1000
        case 13: sampleRate = try readTail(2, "16-bit sample rate")
        case 14: sampleRate = try readTail(2, "16-bit sample rate") * 10
        default: throw .badFrameHeader("sample rate code 15 is invalid")
        }

        let assignment: FLACChannelAssignment
        switch channelCode {
        case 0...7: assignment = .independent(channelCode + 1)
        case 8: assignment = .leftSide
        case 9: assignment = .rightSide
        case 10: assignment = .midSide
        default: throw .badFrameHeader("channel assignment \(channelCode) is reserved")
        }

        let bitsPerSample: Int
        switch sizeCode {
        case 0:
            guard let streamInfo else { throw .badFrameHeader("sample size is 'from STREAMINFO' but there is none") }
            bitsPerSample = streamInfo.bitsPerSample
        case 1: bitsPerSample = 8
        case 2: bitsPerSample = 12
        case 3: throw .badFrameHeader("sample size code 3 is reserved")
        case 4: bitsPerSample = 16
        case 5: bitsPerSample = 20
        case 6: bitsPerSample = 24
        default: bitsPerSample = 32
        }

        guard position < bytes.count else { throw .endOfData("frame header CRC-8 is cut off") }
        let expected = bytes[position]
        let computed = CRC8.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<position]))
        guard expected == computed else { throw .headerCRCMismatch(expected: expected, computed: computed) }

        return FLACFrameHeader(
            variableBlockSize: variable, blockSize: blockSize, sampleRate: sampleRate,
            channelAssignment: assignment, bitsPerSample: bitsPerSample, number: number,
            byteCount: position + 1 - offset)
    }
}
