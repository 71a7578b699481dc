/// Decodes one stream's chunks on a speaker. Pure: no I/O.
///
/// Made from a CodecHeader (codec name + header bytes); each chunk's bytes decode to
/// interleaved Float samples in −1...1 (16-bit samples map exactly: `s / 32768`).
public protocol AudioDecoder: Sendable {
    /// The format the decoded samples are in.
    var format: SampleFormat { get }
    /// Decodes one chunk; throws ``DecoderError`` for bytes that cannot be audio of this stream.
    mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecoderError) -> [Float]
}

/// Why a codec header or chunk could not be decoded.
public enum DecoderError: Error, Equatable, CustomStringConvertible {
    case unsupportedCodec(String)
    /// The codec is known but a library it needs could not be loaded; the text says which package.
    case libraryUnavailable(codec: String, reason: String)
    case badHeader(String)
    case badChunk(String)

    public var description: String {
        switch self {
        case .unsupportedCodec(let name): "codec '\(name)' is not supported (pcm, flac and opus are)"
        case .libraryUnavailable(let codec, let reason): "cannot decode \(codec): \(reason)"
        case .badHeader(let why): "bad codec header: \(why)"
        case .badChunk(let why): "bad chunk: \(why)"
        }
    }
}

/// The `pcm` codec: a RIFF/WAVE header names the format; chunks are raw little-endian samples
/// (24-bit in 4-byte containers).
public struct PCMDecoder: AudioDecoder {
    public let format: SampleFormat

    public init(header: [UInt8]) throws(DecoderError) {
        do {
            format = try WAVHeader.parse(header).format
        } catch {
            throw .badHeader("\(error)")
        }
    }

    public init(format: SampleFormat) { self.format = format }

    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecoderError) -> [Float] {
        let sampleBytes = format.bytesPerSample
        guard bytes.count % format.bytesPerFrame == 0 else {
            throw .badChunk("\(bytes.count) bytes is not a whole number of \(format.bytesPerFrame)-byte frames")
        }
        let count = bytes.count / sampleBytes
        var samples = [Float](repeating: 0, count: count)
        switch format.bits {
        case 16:
            for i in 0..<count { samples[i] = Float(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))) / 32768 }
        case 8:
            for i in 0..<count { samples[i] = Float(Int8(bitPattern: bytes[i])) / 128 }
        case 24:
            for i in 0..<count {
                let raw = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                samples[i] = Float((raw << 8) >> 8) / 8_388_608
            }
        default:
            for i in 0..<count { samples[i] = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) / 2_147_483_648 }
        }
        return samples
    }
}
