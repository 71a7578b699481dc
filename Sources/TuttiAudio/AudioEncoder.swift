/// A packet of encoded audio and the stream time of its first sample.
public struct EncodedPacket: Sendable, Equatable {
    /// Server time of the packet's first sample (the chunk timestamp on the wire).
    public var timestamp: Int64
    /// Frames of audio the packet holds.
    public var frames: Int
    /// The codec's bytes.
    public var bytes: [UInt8]

    public init(timestamp: Int64, frames: Int, bytes: [UInt8]) {
        self.timestamp = timestamp
        self.frames = frames
        self.bytes = bytes
    }
}

/// Encodes one stream's PCM once, for every speaker of that stream. Pure: no I/O, no clock.
///
/// An encoder may hold samples back (FLAC fills whole blocks): then a call returns no packet,
/// and a later packet's timestamp is that of its own first sample, not of the call's input.
public protocol AudioEncoder: Sendable {
    /// The codec name on the wire (`pcm`, `flac`, `opus`).
    var codecName: String { get }
    /// The codec header sent to every speaker before the first chunk.
    var header: [UInt8] { get }
    /// Encodes interleaved PCM in the stream's format whose first frame has `timestamp`.
    mutating func encode(_ pcm: UnsafeRawBufferPointer, timestamp: Int64) -> [EncodedPacket]
    /// Forgets held samples: the next input is not contiguous with the last (the source paused).
    mutating func reset()
}

/// The `pcm` codec: raw interleaved little-endian samples, passed through unchanged.
///
/// Its header is a canonical 44-byte RIFF/WAVE header describing the format, as Snapcast's
/// PCM codec sends (24-bit samples in 4-byte containers).
public struct PCMEncoder: AudioEncoder {
    public let format: SampleFormat
    public let codecName = "pcm"
    public let header: [UInt8]

    public init(format: SampleFormat) {
        self.format = format
        self.header = WAVHeader.canonicalBytes(for: format, dataSize: 0)
    }

    public mutating func encode(_ pcm: UnsafeRawBufferPointer, timestamp: Int64) -> [EncodedPacket] {
        let frames = pcm.count / format.bytesPerFrame
        guard frames > 0 else { return [] }
        return [EncodedPacket(timestamp: timestamp, frames: frames, bytes: Array(pcm.prefix(frames * format.bytesPerFrame)))]
    }

    public mutating func reset() {}
}
