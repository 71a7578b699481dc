/// A fuzz entry point for the FLAC decoder: feeds arbitrary bytes through every decoding path.
///
/// It must never trap, whatever `data` is; a libFuzzer harness only has to call ``run(data:)``.
public enum FLACFuzz {
    /// A 16-bit stereo 44.1 kHz STREAMINFO, so bytes without metadata still reach frame decoding.
    static let fallbackInfo = FLACStreamInfo(minBlockSize: 16, maxBlockSize: 65535, sampleRate: 44_100, channels: 2, bitsPerSample: 16)

    /// Decodes `data` as a whole stream, as a codec header plus chunk, and as a bare chunk.
    public static func run(data: [UInt8]) {
        data.withUnsafeBytes { raw in
            _ = try? FLACStreamDecoder.decode(raw)
            if let metadata = try? FLACMetadata.parse(raw) {
                var decoder = FLACDecoder(streamInfo: metadata.streamInfo)
                _ = try? decoder.decode(UnsafeRawBufferPointer(rebasing: raw[metadata.audioOffset...]))
            }
            var bare = FLACDecoder(streamInfo: fallbackInfo)
            _ = try? bare.decode(raw)
            _ = try? bare.decodeFrames(raw)
        }
    }
}
