import TuttiAudio

/// Decodes an `opus` stream on a speaker: one raw Opus packet per chunk to interleaved Float.
///
/// Made from Snapcast's 12-byte ``OpusCodecHeader`` (from Tutti's server or a real snapserver).
/// A packet may last 2.5 to 120 ms; the output holds `frames × channels` samples in −1...1
/// (libopus may overshoot ±1 slightly on clipped material; the player clamps).
///
/// Edges: an empty chunk, or bytes libopus rejects, throw ``DecoderError/badChunk(_:)``; the
/// decoder's state is unharmed, so the next chunk decodes normally. Random bytes are often
/// *valid* Opus (the format has little redundancy) and decode to noise-like audio rather than an
/// error; only a checksum at a higher layer could tell. For a lost or rejected chunk the speaker
/// may call ``concealLoss(frames:)`` to get packet-loss concealment instead of silence.
///
/// Thread safety: one instance belongs to one speaker's decode thread. The libopus state sits
/// in a reference-typed holder, so a copy shares it with the original: decode through one copy.
public struct OpusDecoder: AudioDecoder {
    public let format: SampleFormat
    /// The most frames one packet can hold: 120 ms at the stream's rate.
    public var maxFrames: Int { format.rate * 120 / 1000 }

    private let state: OpusDecoderState

    /// Parses `header` and creates the libopus decoder.
    ///
    /// - Throws: ``DecoderError/badHeader(_:)`` for a header that is not Snapcast's Opus header;
    ///   ``DecoderError/libraryUnavailable(codec:reason:)`` naming `libopus0` when the library is missing.
    public init(header: [UInt8]) throws(DecoderError) {
        try self.init(header: header, library: OpusFunctions.shared)
    }

    init(header: [UInt8], library: Result<OpusFunctions, OpusError>) throws(DecoderError) {
        format = try OpusCodecHeader(parsing: header).format
        do throws(OpusError) {
            state = try OpusDecoderState(functions: library.get(), format: format)
        } catch {
            throw error.asDecoderError
        }
    }

    /// Decodes one chunk (one Opus packet) to interleaved samples.
    /// - Throws: ``DecoderError/badChunk(_:)`` naming libopus's reason and the chunk's size.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecoderError) -> [Float] {
        guard let data = bytes.baseAddress, !bytes.isEmpty else { throw .badChunk("empty Opus packet") }
        let frames = state.decode(data.assumingMemoryBound(to: UInt8.self), count: bytes.count, frames: maxFrames)
        guard frames >= 0 else {
            throw .badChunk("libopus rejected a \(bytes.count)-byte Opus packet: \(state.describe(Int32(frames)))")
        }
        return state.output(frames: frames)
    }

    /// Packet-loss concealment: audio libopus extrapolates for a missing chunk of `frames`.
    ///
    /// `frames` is rounded up to a multiple of 2.5 ms and clamped to 2.5...120 ms, as libopus
    /// requires; the result has that many frames. Should libopus fail, the result is silence.
    public mutating func concealLoss(frames: Int) -> [Float] {
        let step = format.rate / 400
        let wanted = min(max((frames + step - 1) / step * step, step), maxFrames)
        let decoded = state.decode(nil, count: 0, frames: wanted)
        guard decoded >= 0 else { return [Float](repeating: 0, count: wanted * format.channels) }
        return state.output(frames: decoded)
    }
}

/// Owns one `OpusDecoder *` and its output buffer; destroys the decoder with the last copy.
///
/// `@unchecked Sendable`: the C state and buffer are mutable and unsynchronized; sound because a
/// decoder (and so its holder) is owned and used by one thread at a time, as ``OpusDecoder`` says.
final class OpusDecoderState: @unchecked Sendable {
    private let functions: OpusFunctions
    private let pointer: OpaquePointer
    private let channels: Int
    private var buffer: [Float]

    init(functions: OpusFunctions, format: SampleFormat) throws(OpusError) {
        var error: Int32 = 0
        guard let pointer = functions.decoderCreate(Int32(format.rate), Int32(format.channels), &error),
              error == OpusFunctions.ok
        else { throw .codecFailure("opus_decoder_create: \(functions.describe(error))") }
        self.functions = functions
        self.pointer = pointer
        channels = format.channels
        buffer = [Float](repeating: 0, count: format.rate * 120 / 1000 * format.channels)
    }

    deinit { functions.decoderDestroy(pointer) }

    /// `opus_decode_float` into the buffer: frames decoded, or a negative libopus error code.
    /// `data == nil` asks for concealment of exactly `frames` frames.
    func decode(_ data: UnsafePointer<UInt8>?, count: Int, frames: Int) -> Int {
        guard count <= Int(Int32.max) else { return Int(-1) }  // OPUS_BAD_ARG; chunks are far smaller
        let capacity = min(frames, buffer.count / channels)
        return buffer.withUnsafeMutableBufferPointer { output in
            Int(functions.decodeFloat(pointer, data, Int32(count), output.baseAddress!, Int32(capacity), 0))
        }
    }

    func output(frames: Int) -> [Float] { Array(buffer[..<(frames * channels)]) }

    func describe(_ code: Int32) -> String { functions.describe(code) }
}
