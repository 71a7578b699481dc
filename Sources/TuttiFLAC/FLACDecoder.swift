import TuttiAudio

/// One decoded FLAC frame: its header and its samples, one array per channel.
public struct FLACDecodedFrame: Equatable, Sendable {
    /// The frame's header.
    public var header: FLACFrameHeader
    /// `samples[channel][i]`, `header.blockSize` values per channel, right-aligned integers of
    /// `header.bitsPerSample` bits.
    public var samples: [[Int32]]
}

/// The speaker's FLAC decoder: made from Snapcast's FLAC codec header, it decodes chunks of
/// whole frames into interleaved Float samples.
///
/// The header is the stream's bytes up to its first frame (`fLaC`, STREAMINFO, other metadata
/// blocks). ``format`` gives STREAMINFO's rate and channels; its bits are rounded up to the
/// container size (8, 16, 24 or 32; a 12-bit stream reports 16, a 20-bit one 24), while samples
/// are normalized by 2^(bits − 1) of the stream's own sample size, so full scale is ±1 either
/// way (16-bit samples come out as exactly `s / 32768`).
///
/// A damaged frame in a chunk (CRC mismatch, garbage) is skipped: the decoder scans for the next
/// sync code whose header checks and continues there, counting the loss in ``damagedFrames``.
/// ``decode(_:)`` throws only when the chunk held bytes but not one frame decoded.
public struct FLACDecoder: AudioDecoder {
    /// The format of decoded samples (bits rounded up to 8, 16, 24 or 32).
    public let format: SampleFormat
    /// The stream's STREAMINFO, from the codec header.
    public let streamInfo: FLACStreamInfo
    /// Frames skipped as damaged since this decoder was made.
    public private(set) var damagedFrames = 0
    /// The reason the last damaged frame was skipped, for the log.
    public private(set) var lastDamage: FLACError?
    private var frames: FLACFrameDecoder

    /// Makes a decoder from a codec header: the stream's bytes up to its first frame.
    ///
    /// Throws ``DecoderError/badHeader(_:)`` naming the problem when the bytes are not a FLAC
    /// stream head with a valid STREAMINFO. Bytes after the metadata are ignored.
    public init(header: [UInt8]) throws(DecoderError) {
        do {
            try self.init(streamInfo: FLACMetadata.parse(header).streamInfo)
        } catch {
            throw .badHeader("\(error)")
        }
    }

    /// Makes a decoder for a stream described by `streamInfo`.
    public init(streamInfo: FLACStreamInfo) {
        self.streamInfo = streamInfo
        let containerBits = streamInfo.bitsPerSample <= 8 ? 8 : (streamInfo.bitsPerSample + 7) / 8 * 8
        format = SampleFormat(rate: streamInfo.sampleRate, bits: containerBits, channels: streamInfo.channels)
        frames = FLACFrameDecoder(streamInfo: streamInfo)
    }

    /// Decodes every whole frame in `bytes` into interleaved Float samples in −1...1.
    ///
    /// Empty input gives no samples. Damaged frames are skipped (see the type's summary); bytes
    /// that yield no frame at all throw ``DecoderError/badChunk(_:)`` with the first error.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecoderError) -> [Float] {
        var output: [Float] = []
        var firstError: FLACError?
        var decodedAny = false
        let scale = 1 / Float(sign: .plus, exponent: streamInfo.bitsPerSample - 1, significand: 1)
        forEachFrame(in: bytes) { header, samples, stride in
            decodedAny = true
            let channels = header.channels, n = header.blockSize
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: n * channels))
            output.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress! + start
                if channels == 2 {
                    let left = samples, right = samples + stride
                    for i in 0..<n {
                        base[2 * i] = Float(left[i]) * scale
                        base[2 * i + 1] = Float(right[i]) * scale
                    }
                } else {
                    for channel in 0..<channels {
                        let source = samples + channel * stride
                        for i in 0..<n { base[i * channels + channel] = Float(source[i]) * scale }
                    }
                }
            }
        } damaged: { error in
            if firstError == nil { firstError = error }
        }
        if let firstError, !decodedAny { throw .badChunk("\(firstError)") }
        return output
    }

    /// Decodes every frame in `bytes` into integer samples, strictly: the first damaged frame
    /// throws its ``FLACError``. For bit-exact comparisons.
    public mutating func decodeFrames(_ bytes: UnsafeRawBufferPointer) throws(FLACError) -> [FLACDecodedFrame] {
        var result: [FLACDecodedFrame] = []
        var offset = 0
        while offset < bytes.count {
            let (header, length) = try frames.decodeFrame(bytes, at: offset)
            result.append(FLACDecodedFrame(header: header, samples: frames.channelArrays(header)))
            offset += length
        }
        return result
    }

    /// Decodes every frame in `bytes`; see ``decodeFrames(_:)-(UnsafeRawBufferPointer)``.
    public mutating func decodeFrames(_ bytes: [UInt8]) throws(FLACError) -> [FLACDecodedFrame] {
        var copy = self
        let result: Result<[FLACDecodedFrame], FLACError> = bytes.withUnsafeBytes { raw in
            do throws(FLACError) { return .success(try copy.decodeFrames(raw)) } catch { return .failure(error) }
        }
        self = copy
        return try result.get()
    }

    /// Walks the frames of a chunk, resynchronizing after damaged ones.
    ///
    /// `frame` gets each good frame's header, a pointer to its samples (channel `c` at
    /// `c * stride`) valid only during the call, and the stride.
    private mutating func forEachFrame(
        in bytes: UnsafeRawBufferPointer,
        frame: (FLACFrameHeader, UnsafePointer<Int32>, Int) -> Void,
        damaged: (FLACError) -> Void
    ) {
        var offset = 0
        while offset < bytes.count {
            do {
                let (header, length) = try frames.decodeFrame(bytes, at: offset)
                frames.withSamples { frame(header, $0, frames.stride) }
                offset += length
            } catch {
                damagedFrames += 1
                lastDamage = error
                damaged(error)
                guard let next = frames.nextFrameStart(in: bytes, from: offset + 1) else { return }
                offset = next
            }
        }
    }
}

extension FLACFrameDecoder {
    /// Calls `body` with a pointer to the last frame's samples.
    func withSamples<R>(_ body: (UnsafePointer<Int32>) -> R) -> R {
        samples.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The last frame's samples as one array per channel.
    func channelArrays(_ header: FLACFrameHeader) -> [[Int32]] {
        (0..<header.channels).map { channel in
            Array(samples[(channel * stride)..<(channel * stride + header.blockSize)])
        }
    }
}

extension FLACDecoder {
    /// Decodes every frame in `bytes` and only counts samples per channel (for benchmarks).
    public mutating func decodeFramesCount(_ bytes: UnsafeRawBufferPointer) throws(FLACError) -> Int {
        var offset = 0, total = 0
        while offset < bytes.count {
            let (header, length) = try frames.decodeFrame(bytes, at: offset)
            total += header.blockSize
            offset += length
        }
        return total
    }
}
