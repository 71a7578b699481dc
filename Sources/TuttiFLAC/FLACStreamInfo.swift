/// The STREAMINFO metadata block: the facts about a whole FLAC stream (RFC 9639, section 8.2).
///
/// Its 34-byte body is, MSB first: minimum and maximum block size (16 bits each), minimum and
/// maximum frame size (24 bits each, 0 = unknown), sample rate (20 bits), channels − 1 (3 bits),
/// bits per sample − 1 (5 bits), total samples per channel (36 bits, 0 = unknown) and the MD5 of
/// the unencoded audio (16 bytes, all zero = unknown). It is always the stream's first block.
public struct FLACStreamInfo: Hashable, Sendable {
    /// The body's size in bytes.
    public static let byteCount = 34

    /// Smallest block size (samples per channel) of any frame but the last; 16...65535.
    public var minBlockSize: Int
    /// Largest block size (samples per channel) in the stream; 16...65535.
    public var maxBlockSize: Int
    /// Smallest frame in bytes; 0 when unknown.
    public var minFrameSize: Int
    /// Largest frame in bytes; 0 when unknown.
    public var maxFrameSize: Int
    /// Samples per second per channel; 1...1048575 (0 only for non-audio streams, refused here).
    public var sampleRate: Int
    /// Channels, 1...8.
    public var channels: Int
    /// Bits per sample, 4...32.
    public var bitsPerSample: Int
    /// Samples per channel in the whole stream; 0 when unknown (as in a live stream).
    public var totalSamples: UInt64
    /// MD5 of the unencoded audio (little-endian, interleaved, whole bytes per sample); zeros when unknown.
    public var md5: [UInt8]

    /// Creates a description; see ``validate()`` for the allowed ranges.
    public init(
        minBlockSize: Int, maxBlockSize: Int, minFrameSize: Int = 0, maxFrameSize: Int = 0,
        sampleRate: Int, channels: Int, bitsPerSample: Int, totalSamples: UInt64 = 0,
        md5: [UInt8] = [UInt8](repeating: 0, count: 16)
    ) {
        self.minBlockSize = minBlockSize
        self.maxBlockSize = maxBlockSize
        self.minFrameSize = minFrameSize
        self.maxFrameSize = maxFrameSize
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitsPerSample = bitsPerSample
        self.totalSamples = totalSamples
        self.md5 = md5
    }

    /// Parses a 34-byte STREAMINFO body; throws ``FLACError`` when it is short or holds values
    /// FLAC does not allow. Bytes past the 34th are ignored.
    public init(parsing body: UnsafeRawBufferPointer) throws(FLACError) {
        guard body.count >= Self.byteCount else {
            throw .badStreamInfo("body is \(body.count) bytes, STREAMINFO needs \(Self.byteCount)")
        }
        func be(_ offset: Int, _ count: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<count { v = v << 8 | UInt64(body[offset + i]) }
            return v
        }
        minBlockSize = Int(be(0, 2))
        maxBlockSize = Int(be(2, 2))
        minFrameSize = Int(be(4, 3))
        maxFrameSize = Int(be(7, 3))
        let packed = be(10, 8)  // rate:20 channels-1:3 bps-1:5 total:36
        sampleRate = Int(packed >> 44)
        channels = Int((packed >> 41) & 0x7) + 1
        bitsPerSample = Int((packed >> 36) & 0x1F) + 1
        totalSamples = packed & 0xF_FFFF_FFFF
        md5 = Array(body[18..<34])
        try validate()
    }

    /// Parses a 34-byte STREAMINFO body from an array; see ``init(parsing:)-(UnsafeRawBufferPointer)``.
    public init(parsing body: [UInt8]) throws(FLACError) {
        let result: Result<FLACStreamInfo, FLACError> = body.withUnsafeBytes { raw in
            do throws(FLACError) { return .success(try FLACStreamInfo(parsing: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// Checks every field's range; throws ``FLACError/badStreamInfo(_:)`` naming the first bad one.
    public func validate() throws(FLACError) {
        guard (16...65535).contains(minBlockSize) else { throw .badStreamInfo("minimum block size \(minBlockSize) is outside 16...65535") }
        guard (16...65535).contains(maxBlockSize) else { throw .badStreamInfo("maximum block size \(maxBlockSize) is outside 16...65535") }
        guard minBlockSize <= maxBlockSize else {
            throw .badStreamInfo("minimum block size \(minBlockSize) exceeds maximum \(maxBlockSize)")
        }
        guard (0..<(1 << 24)).contains(minFrameSize), (0..<(1 << 24)).contains(maxFrameSize) else {
            throw .badStreamInfo("frame sizes \(minFrameSize)/\(maxFrameSize) do not fit 24 bits")
        }
        guard (1..<(1 << 20)).contains(sampleRate) else { throw .badStreamInfo("sample rate \(sampleRate) is outside 1...1048575") }
        guard (1...8).contains(channels) else { throw .badStreamInfo("\(channels) channels is outside 1...8") }
        guard (4...32).contains(bitsPerSample) else { throw .badStreamInfo("\(bitsPerSample) bits per sample is outside 4...32") }
        guard totalSamples < (1 << 36) else { throw .badStreamInfo("total samples \(totalSamples) does not fit 36 bits") }
        guard md5.count == 16 else { throw .badStreamInfo("MD5 is \(md5.count) bytes, not 16") }
    }

    /// The 34-byte body. Fields are written as they are, truncated to their widths; call
    /// ``validate()`` first to be sure they fit.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        func put(_ value: UInt64, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
        }
        put(UInt64(truncatingIfNeeded: minBlockSize) & 0xFFFF, 2)
        put(UInt64(truncatingIfNeeded: maxBlockSize) & 0xFFFF, 2)
        put(UInt64(truncatingIfNeeded: minFrameSize) & 0xFF_FFFF, 3)
        put(UInt64(truncatingIfNeeded: maxFrameSize) & 0xFF_FFFF, 3)
        var packed = (UInt64(truncatingIfNeeded: sampleRate) & 0xF_FFFF) << 44
        packed |= (UInt64(truncatingIfNeeded: channels - 1) & 0x7) << 41
        packed |= (UInt64(truncatingIfNeeded: bitsPerSample - 1) & 0x1F) << 36
        packed |= totalSamples & 0xF_FFFF_FFFF
        put(packed, 8)
        out += md5.count == 16 ? md5 : [UInt8](repeating: 0, count: 16)
        return out
    }

    /// The whole metadata block: the 4-byte block header (last-block flag, type 0, length 34)
    /// followed by ``bytes``.
    public func metadataBlock(isLast: Bool) -> [UInt8] {
        [isLast ? 0x80 : 0x00, 0, 0, UInt8(Self.byteCount)] + bytes
    }
}
