/// Decodes a whole FLAC stream (a `.flac` file's bytes) into integer samples.
///
/// Reads the metadata, then every frame. A damaged frame (CRC mismatch, reserved values,
/// garbage) is skipped: decoding resumes at the next sync code whose header CRC-8 checks and
/// agrees with STREAMINFO, and the loss is counted. Its samples are missing from the output,
/// so ``Result/frames`` says where each decoded frame's samples came from.
public enum FLACStreamDecoder {
    /// Where one decoded frame's samples sit in ``Result/samples``.
    public struct DecodedFrame: Equatable, Sendable {
        /// The frame's header (its ``FLACFrameHeader/number`` locates it in the source).
        public var header: FLACFrameHeader
        /// Byte offset of the frame in the stream.
        public var byteOffset: Int
        /// Index in each channel of ``Result/samples`` of the frame's first sample.
        public var outputOffset: Int
    }

    /// A decoded stream.
    public struct Result: Sendable {
        /// The stream's metadata.
        public var metadata: FLACMetadata
        /// Decoded samples, `samples[channel][i]`, damaged frames left out.
        public var samples: [[Int32]]
        /// Every frame decoded, in order.
        public var frames: [DecodedFrame]
        /// How many times decoding hit a damaged frame and resynchronized.
        public var damagedFrames: Int
        /// Why, in order (the first 100).
        public var errors: [FLACError]
        /// Bytes after the last frame that were not a frame (a truncated last frame lands here).
        public var trailingBytes: Int
    }

    /// Decodes `bytes`, a whole FLAC stream.
    ///
    /// Throws only for metadata errors (no `fLaC`, bad STREAMINFO, cut-off metadata); frame
    /// errors are counted in ``Result/damagedFrames`` and listed in ``Result/errors``.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FLACError) -> Result {
        let metadata = try FLACMetadata.parse(bytes)
        let info = metadata.streamInfo
        var decoder = FLACFrameDecoder(streamInfo: info)
        var samples = [[Int32]](repeating: [], count: info.channels)
        if info.totalSamples > 0, info.totalSamples < 1 << 28 {
            for c in 0..<info.channels { samples[c].reserveCapacity(Int(info.totalSamples)) }
        }
        var frames: [DecodedFrame] = []
        var errors: [FLACError] = []
        var damaged = 0
        var offset = metadata.audioOffset
        var trailing = 0
        while offset < bytes.count {
            do {
                let (header, length) = try decoder.decodeFrame(bytes, at: offset)
                frames.append(DecodedFrame(header: header, byteOffset: offset, outputOffset: samples[0].count))
                decoder.withSamples { pointer in
                    for c in 0..<header.channels {
                        let start = pointer + c * decoder.stride
                        samples[c].append(contentsOf: UnsafeBufferPointer(start: start, count: header.blockSize))
                    }
                }
                offset += length
            } catch {
                damaged += 1
                if errors.count < 100 { errors.append(error) }
                guard let next = decoder.nextFrameStart(in: bytes, from: offset + 1) else {
                    trailing = bytes.count - offset
                    break
                }
                offset = next
            }
        }
        return Result(
            metadata: metadata, samples: samples, frames: frames, damagedFrames: damaged, errors: errors,
            trailingBytes: trailing)
    }

    /// Decodes `bytes`, a whole FLAC stream; see ``decode(_:)-(UnsafeRawBufferPointer)``.
    public static func decode(_ bytes: [UInt8]) throws(FLACError) -> Result {
        let result: Swift.Result<Result, FLACError> = bytes.withUnsafeBytes { raw in
            do throws(FLACError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
