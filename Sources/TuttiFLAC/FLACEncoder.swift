import TuttiAudio

/// The `flac` codec: a pure-Swift FLAC encoder for a live stream, as Snapcast sends it.
///
/// The codec header is the stream's bytes up to its first frame: `fLaC`, STREAMINFO (block
/// size fixed, frame sizes, total samples and MD5 unknown — zeros — as befits a live stream)
/// and a VORBIS_COMMENT block naming the encoder, flagged last. ``encode(_:timestamp:)`` holds
/// samples until a block is full and returns whole frames only; a packet's timestamp is that of
/// its first sample, which may have arrived in an earlier call (it is the input timestamp of
/// the call that brought that sample, plus the samples before it in that call at the stream's
/// rate, so no rounding accumulates). Frame numbers keep counting across ``reset()``.
///
/// Compression follows the reference encoder's levels 0...8 (see ``FLACEncoderSettings``).
/// Pure: no I/O, no clock; encoding allocates only the returned bytes.
public struct FLACEncoder: AudioEncoder {
    /// The PCM layout `encode` expects (24-bit samples in 4-byte little-endian containers).
    public let format: SampleFormat
    /// The compression level, 0...8.
    public let level: Int
    /// Samples per channel in every frame.
    public let blockSize: Int
    public let codecName = "flac"
    public let header: [UInt8]

    /// Held input: `heldFrames` whole frames of raw PCM in `format`'s layout.
    private var held: [UInt8]
    private var heldFrames = 0
    /// Server time of the first held frame.
    private var heldTimestamp: Int64 = 0
    /// The next frame's number (31 bits, wrapping).
    private var frameNumber: UInt64 = 0
    private var workspace: FLACEncoderWorkspace

    /// The vendor string written to the VORBIS_COMMENT block.
    public static let vendor = "Tutti FLAC encoder"

    /// An encoder for PCM in `format` at compression `level` (clamped to 0...8), with the
    /// level's block size unless `blockSize` (clamped to 16...65535) is given.
    ///
    /// `format` must have 1...8 channels and 4...32 bits (``SampleFormat/init(parsing:)``
    /// guarantees both); anything else is a programming error and traps.
    public init(format: SampleFormat, level: Int = 5, blockSize: Int? = nil) {
        precondition((1...8).contains(format.channels), "FLAC carries 1...8 channels, not \(format.channels)")
        precondition((4...32).contains(format.bits), "FLAC carries 4...32 bits per sample, not \(format.bits)")
        self.format = format
        self.level = min(max(level, 0), 8)
        let settings = FLACEncoderSettings(level: self.level, blockSize: blockSize.map { min(max($0, 16), 65535) })
        self.blockSize = settings.blockSize
        workspace = FLACEncoderWorkspace(settings: settings, channels: format.channels, bitsPerSample: format.bits)
        held = [UInt8](repeating: 0, count: settings.blockSize * format.bytesPerFrame)
        header = [0x66, 0x4C, 0x61, 0x43] + Self.streamInfo(format: format, blockSize: settings.blockSize).metadataBlock(isLast: false)
            + Self.vorbisCommentBlock(vendor: Self.vendor, isLast: true)
    }

    /// The STREAMINFO a live stream of `format` in blocks of `blockSize` carries: unknown frame
    /// sizes, total samples and MD5.
    static func streamInfo(format: SampleFormat, blockSize: Int) -> FLACStreamInfo {
        FLACStreamInfo(
            minBlockSize: blockSize, maxBlockSize: blockSize, sampleRate: format.rate, channels: format.channels,
            bitsPerSample: format.bits)
    }

    /// A VORBIS_COMMENT metadata block holding only a vendor string (lengths little-endian,
    /// as Vorbis comments have them).
    static func vorbisCommentBlock(vendor: String, isLast: Bool) -> [UInt8] {
        let text = Array(vendor.utf8)
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let body = le32(text.count) + text + le32(0)
        return [(isLast ? 0x80 : 0) | 4, UInt8(body.count >> 16), UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)] + body
    }

    /// Samples held back, waiting for their block to fill.
    public var heldSampleCount: Int { heldFrames }

    /// Encodes interleaved PCM whose first frame is at server time `timestamp` (nanoseconds).
    ///
    /// Returns one packet holding every frame this call completed (none while a block is still
    /// filling); stray bytes after the last whole PCM frame are ignored. The packet's timestamp
    /// is its first sample's.
    public mutating func encode(_ pcm: UnsafeRawBufferPointer, timestamp: Int64) -> [EncodedPacket] {
        let frameBytes = format.bytesPerFrame
        let frames = pcm.count / frameBytes
        guard frames > 0, let base = pcm.baseAddress else { return [] }
        if !isKnownUniquelyReferenced(&workspace) {
            workspace = FLACEncoderWorkspace(settings: workspace.settings, channels: format.channels, bitsPerSample: format.bits)
        }
        var bytes: [UInt8] = []
        var packetTimestamp: Int64?
        var packetFrames = 0
        var consumed = 0

        if heldFrames > 0 {
            let take = min(blockSize - heldFrames, frames)
            held.withUnsafeMutableBytes { heldBytes in
                (heldBytes.baseAddress! + heldFrames * frameBytes).copyMemory(from: base, byteCount: take * frameBytes)
            }
            heldFrames += take
            consumed = take
            if heldFrames == blockSize {
                packetTimestamp = heldTimestamp
                held.withUnsafeBytes { appendFrame(from: $0.baseAddress!, count: blockSize, to: &bytes) }
                packetFrames += blockSize
                heldFrames = 0
            }
        }
        while frames - consumed >= blockSize {
            if packetTimestamp == nil { packetTimestamp = timestamp + format.nanoseconds(frames: consumed) }
            appendFrame(from: base + consumed * frameBytes, count: blockSize, to: &bytes)
            packetFrames += blockSize
            consumed += blockSize
        }
        if consumed < frames {
            if heldFrames == 0 { heldTimestamp = timestamp + format.nanoseconds(frames: consumed) }
            let rest = frames - consumed
            held.withUnsafeMutableBytes { heldBytes in
                (heldBytes.baseAddress! + heldFrames * frameBytes).copyMemory(from: base + consumed * frameBytes, byteCount: rest * frameBytes)
            }
            heldFrames += rest
        }
        guard let packetTimestamp else { return [] }
        return [EncodedPacket(timestamp: packetTimestamp, frames: packetFrames, bytes: bytes)]
    }

    /// Drops held samples without coding them: the source paused, and the next input is not
    /// contiguous with them. (A FLAC stream may end on a shorter block, but a live stream just
    /// resumes with a fresh full block; frame numbers continue.)
    public mutating func reset() {
        heldFrames = 0
    }

    /// Codes `count` frames of raw PCM at `pcm` as the next FLAC frame, appending it to `bytes`.
    private mutating func appendFrame(from pcm: UnsafeRawPointer, count: Int, to bytes: inout [UInt8]) {
        workspace.load(pcm: pcm, count: count, format: format)
        let length = workspace.encodeFrame(count: count, frameNumber: frameNumber, sampleRate: format.rate)
        bytes.append(contentsOf: UnsafeBufferPointer(start: workspace.output, count: length))
        frameNumber = (frameNumber + 1) & 0x7FFF_FFFF
    }
}
