import TuttiAudio

/// Encodes a whole recording into a complete `.flac` file in memory.
///
/// Unlike the live ``FLACEncoder`` it knows the end: ``finish()`` codes the held samples as a
/// shorter last block and fills STREAMINFO with the total sample count, the smallest and
/// largest frame size and the MD5 of the audio (interleaved little-endian samples of whole
/// bytes: 24-bit samples count as three bytes, not their 4-byte containers). A file with no
/// samples is just the metadata. Pure: no I/O; the caller writes the bytes where it likes.
public struct FLACFileWriter: Sendable {
    /// The PCM layout ``append(_:)`` expects (24-bit samples in 4-byte little-endian containers).
    public let format: SampleFormat
    /// Samples per channel in every frame but the last.
    public let blockSize: Int

    private var workspace: FLACEncoderWorkspace
    private var frames: [UInt8] = []
    private var held: [UInt8] = []
    private var frameNumber: UInt64 = 0
    private var totalSamples: UInt64 = 0
    private var smallestFrame = Int.max
    private var largestFrame = 0
    private var md5 = MD5()

    /// A writer for PCM in `format` at compression `level` (0...8), with the level's block
    /// size unless `blockSize` (16...65535) is given; the same rules as ``FLACEncoder``.
    public init(format: SampleFormat, level: Int = 5, blockSize: Int? = nil) {
        precondition((1...8).contains(format.channels), "FLAC carries 1...8 channels, not \(format.channels)")
        precondition((4...32).contains(format.bits), "FLAC carries 4...32 bits per sample, not \(format.bits)")
        self.format = format
        let settings = FLACEncoderSettings(level: level, blockSize: blockSize.map { min(max($0, 16), 65535) })
        self.blockSize = settings.blockSize
        workspace = FLACEncoderWorkspace(settings: settings, channels: format.channels, bitsPerSample: format.bits)
    }

    /// Appends interleaved PCM in `format`'s layout; stray bytes after the last whole frame are
    /// ignored.
    public mutating func append(_ pcm: UnsafeRawBufferPointer) {
        let frameBytes = format.bytesPerFrame
        let count = pcm.count / frameBytes
        guard count > 0 else { return }
        if !isKnownUniquelyReferenced(&workspace) {
            workspace = FLACEncoderWorkspace(settings: workspace.settings, channels: format.channels, bitsPerSample: format.bits)
        }
        updateMD5(UnsafeRawBufferPointer(rebasing: pcm[0..<(count * frameBytes)]))
        totalSamples += UInt64(count)
        held.append(contentsOf: pcm[0..<(count * frameBytes)])
        let whole = held.count / (blockSize * frameBytes)
        guard whole > 0 else { return }
        held.withUnsafeBytes { bytes in
            for block in 0..<whole { encodeBlock(bytes.baseAddress! + block * blockSize * frameBytes, count: blockSize) }
        }
        held.removeFirst(whole * blockSize * frameBytes)
    }

    /// Codes the held samples as the last (shorter) frame and returns the whole file.
    public mutating func finish() -> [UInt8] {
        let frameBytes = format.bytesPerFrame
        if !held.isEmpty {
            if !isKnownUniquelyReferenced(&workspace) {
                workspace = FLACEncoderWorkspace(settings: workspace.settings, channels: format.channels, bitsPerSample: format.bits)
            }
            held.withUnsafeBytes { encodeBlock($0.baseAddress!, count: held.count / frameBytes) }
            held.removeAll()
        }
        var info = FLACEncoder.streamInfo(format: format, blockSize: blockSize)
        info.totalSamples = totalSamples
        info.minFrameSize = largestFrame == 0 ? 0 : smallestFrame
        info.maxFrameSize = largestFrame
        var digest = md5
        info.md5 = digest.finish()
        return [0x66, 0x4C, 0x61, 0x43] + info.metadataBlock(isLast: false)
            + FLACEncoder.vorbisCommentBlock(vendor: FLACEncoder.vendor, isLast: true) + frames
    }

    private mutating func encodeBlock(_ pcm: UnsafeRawPointer, count: Int) {
        workspace.load(pcm: pcm, count: count, format: format)
        let length = workspace.encodeFrame(count: count, frameNumber: frameNumber, sampleRate: format.rate)
        frames.append(contentsOf: UnsafeBufferPointer(start: workspace.output, count: length))
        smallestFrame = min(smallestFrame, length)
        largestFrame = max(largestFrame, length)
        frameNumber += 1
    }

    /// Feeds the MD5 with the samples as whole bytes: as they are for 8 and 16 bits, the low
    /// three bytes of each container for 17...24 bits.
    private mutating func updateMD5(_ pcm: UnsafeRawBufferPointer) {
        guard format.bytesPerSample == 4 && format.bits <= 24 else {
            md5.update(pcm)
            return
        }
        var packed = [UInt8](repeating: 0, count: pcm.count / 4 * 3)
        for i in 0..<(pcm.count / 4) {
            packed[3 * i] = pcm[4 * i]
            packed[3 * i + 1] = pcm[4 * i + 1]
            packed[3 * i + 2] = pcm[4 * i + 2]
        }
        packed.withUnsafeBytes { md5.update($0) }
    }
}

extension FLACEncoder {
    /// A complete `.flac` file of `samples` (interleaved, each at `format.bits` bits) at
    /// compression `level`. Empty input gives a file with no frames.
    public static func encodeFile(samples: [Int32], format: SampleFormat, level: Int = 5) -> [UInt8] {
        var writer = FLACFileWriter(format: format, level: level)
        let width = format.bytesPerSample
        var pcm = [UInt8](repeating: 0, count: samples.count * width)
        for (i, sample) in samples.enumerated() {
            for b in 0..<width { pcm[i * width + b] = UInt8(truncatingIfNeeded: sample >> Int32(8 * b)) }
        }
        pcm.withUnsafeBytes { writer.append($0) }
        return writer.finish()
    }
}
