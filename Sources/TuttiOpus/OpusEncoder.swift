import TuttiAudio

/// Encodes a stream's 48 kHz 16-bit PCM to Opus on the server: one raw Opus packet of 20 ms
/// (960 frames) per chunk, behind Snapcast's 12-byte ``OpusCodecHeader``.
///
/// Input arrives in any size; samples are held until a whole 20 ms frame is there, so a call
/// may return no packet, or several. Each packet's timestamp is the server time of its first
/// sample on a sample clock: while each call's timestamp continues the previous call's (within
/// 1 µs, which absorbs callers' nanosecond rounding), sample `n` after the clock's start is at
/// `start + n × 10⁹ / 48000` ns, so packets of contiguous input step by exactly 20 ms whatever
/// the input sizes. A call that jumps by more restarts the clock at its own timestamp (a packet
/// already begun keeps its start time). ``reset()`` drops held samples, the clock and the
/// codec's history.
///
/// Edges: only 48000 Hz (Snapcast's speakers expect it; the server must resample other rates or
/// refuse Opus), 16-bit, 1 or 2 channels, else ``OpusError/unsupportedFormat(_:)``. A trailing
/// partial frame of bytes (fewer than `bytesPerFrame`) in one call is ignored. A frame libopus
/// refuses to encode (never seen in practice) is skipped and counted in ``droppedPackets``; later
/// timestamps stay right.
///
/// The decoded signal lags the packet timestamps by ``codecDelayFrames`` (libopus's lookahead,
/// 120 frames = 2.5 ms in low-delay mode); Snapcast does not compensate it either, and it is the
/// same on every speaker of the stream, so sync between speakers is unaffected.
///
/// Thread safety: one instance belongs to one stream reader thread. The libopus state sits in a
/// reference-typed holder, so a copy of an encoder shares it with the original: do not encode
/// through two copies.
public struct OpusEncoder: AudioEncoder {
    /// The libopus application mode.
    public enum Application: Sendable {
        /// `OPUS_APPLICATION_RESTRICTED_LOWDELAY`: CELT only, lowest delay (Snapcast's choice).
        case restrictedLowDelay
        /// `OPUS_APPLICATION_AUDIO`: music-tuned, may use SILK/hybrid, 4 ms more lookahead.
        case audio
    }

    /// Frames per packet: 20 ms at 48 kHz.
    public static let frameSize = 960
    /// The bitrates accepted, in bit/s (Snapcast's range).
    public static let bitrates = 6000...512_000
    /// Snapcast's default bitrate, in bit/s.
    public static let defaultBitrate = 192_000

    public let codecName = "opus"
    public let header: [UInt8]
    /// The PCM format taken: 48000:16:1 or 48000:16:2.
    public let format: SampleFormat
    /// The bitrate asked of libopus, in bit/s.
    public let bitrate: Int
    /// Frames by which decoded audio lags the packet timestamps (`OPUS_GET_LOOKAHEAD`).
    public let codecDelayFrames: Int
    /// Frames libopus refused to encode since creation (each lost 20 ms).
    public private(set) var droppedPackets = 0

    private let state: OpusEncoderState
    private var held: [Int16]
    private var heldFrames = 0
    private var heldTimestamp: Int64 = 0
    /// The sample clock: the next input frame is at `start + nanoseconds(frames)`; nil after reset.
    private var clock: (start: Int64, frames: Int)?
    /// How far a call's timestamp may stray from the clock and still continue it.
    private static let continuityTolerance: UInt64 = 1_000

    /// Makes an encoder for `format`.
    ///
    /// - Parameters:
    ///   - bitrate: bit/s in ``bitrates`` (default 192 kbit/s as Snapcast; ~96k is plenty for mono).
    ///   - complexity: 0...10, libopus's CPU/quality trade-off (10, as Snapcast).
    /// - Throws: ``OpusError``: the library is missing (naming `libopus0`), the format or an option
    ///   is not accepted, or the platform cannot make the variadic ctl call.
    public init(format: SampleFormat, bitrate: Int = defaultBitrate, complexity: Int = 10,
                application: Application = .restrictedLowDelay) throws(OpusError) {
        try self.init(format: format, bitrate: bitrate, complexity: complexity, application: application,
                      library: OpusFunctions.shared)
    }

    init(format: SampleFormat, bitrate: Int, complexity: Int, application: Application,
         library: Result<OpusFunctions, OpusError>) throws(OpusError) {
        guard format.rate == 48_000 else {
            throw .unsupportedFormat("\(format.rate) Hz; Opus streams run at 48000 Hz (resample the source)")
        }
        guard format.bits == 16 else { throw .unsupportedFormat("\(format.bits)-bit samples; Opus takes 16-bit input") }
        guard (1...2).contains(format.channels) else {
            throw .unsupportedFormat("\(format.channels) channels; Opus streams carry 1 or 2")
        }
        guard Self.bitrates.contains(bitrate) else { throw .invalidParameter("bitrate \(bitrate) is outside 6000...512000 bit/s") }
        guard (0...10).contains(complexity) else { throw .invalidParameter("complexity \(complexity) is outside 0...10") }
        let functions = try library.get()
        state = try OpusEncoderState(functions: functions, format: format, application: application)
        try state.set(OpusFunctions.setBitrateRequest, Int32(bitrate), what: "bitrate \(bitrate)")
        try state.set(OpusFunctions.setComplexityRequest, Int32(complexity), what: "complexity \(complexity)")
        codecDelayFrames = try state.lookahead()
        self.format = format
        self.bitrate = bitrate
        header = OpusCodecHeader(format: format).bytes
        held = [Int16](repeating: 0, count: Self.frameSize * format.channels)
    }

    /// Encodes interleaved little-endian 16-bit PCM whose first frame has `timestamp` (ns).
    ///
    /// Returns one packet per completed 20 ms frame, oldest first; empty input returns none.
    public mutating func encode(_ pcm: UnsafeRawBufferPointer, timestamp: Int64) -> [EncodedPacket] {
        let bytesPerFrame = format.bytesPerFrame
        let inputFrames = pcm.count / bytesPerFrame
        guard inputFrames > 0, let source = pcm.baseAddress else { return [] }
        var clock = self.clock ?? (timestamp, 0)
        if (clock.start + format.nanoseconds(frames: clock.frames) &- timestamp).magnitude > Self.continuityTolerance {
            clock = (timestamp, 0)
        }
        var packets: [EncodedPacket] = []
        var done = 0
        while done < inputFrames {
            if heldFrames == 0 { heldTimestamp = clock.start + format.nanoseconds(frames: clock.frames + done) }
            let take = min(Self.frameSize - heldFrames, inputFrames - done)
            // A byte copy: the wire's little-endian samples are host order on every platform Swift
            // runs Tutti on (x86-64, arm64); it also tolerates unaligned input.
            held.withUnsafeMutableBytes { target in
                (target.baseAddress! + heldFrames * bytesPerFrame)
                    .copyMemory(from: source + done * bytesPerFrame, byteCount: take * bytesPerFrame)
            }
            heldFrames += take
            done += take
            if heldFrames == Self.frameSize {
                if let bytes = state.encode(held, frames: Self.frameSize) {
                    packets.append(EncodedPacket(timestamp: heldTimestamp, frames: Self.frameSize, bytes: bytes))
                } else {
                    droppedPackets += 1
                }
                heldFrames = 0
            }
        }
        // Whole seconds move into `start` (exactly, 48000 frames = 10⁹ ns) so `frames` stays small.
        clock.frames += inputFrames
        clock.start += Int64(clock.frames / format.rate) * 1_000_000_000
        clock.frames %= format.rate
        self.clock = clock
        return packets
    }

    /// Drops held samples and resets libopus's history (`OPUS_RESET_STATE`), so the next packet
    /// starts clean with the next input's timestamp.
    public mutating func reset() {
        heldFrames = 0
        clock = nil
        state.reset()
    }
}

/// Owns one `OpusEncoder *`; destroys it when the last ``OpusEncoder`` copy goes.
///
/// `@unchecked Sendable`: the C state is mutable and unsynchronized; it is sound because an
/// encoder (and so its holder) is owned and used by one thread at a time, as ``OpusEncoder`` says.
final class OpusEncoderState: @unchecked Sendable {
    private let functions: OpusFunctions
    private let ctl: (set: OpusFunctions.CtlSet, get: OpusFunctions.CtlGet)
    private let pointer: OpaquePointer
    /// Room for the largest packet (libopus recommends 4000 bytes; 20 ms needs at most 1275).
    private var packet = [UInt8](repeating: 0, count: 4000)

    init(functions: OpusFunctions, format: SampleFormat, application: OpusEncoder.Application) throws(OpusError) {
        guard let ctl = functions.ctl else {
            throw .unsupportedPlatform("opus_encoder_ctl is variadic and Apple arm64 passes variadic arguments on the stack")
        }
        let mode = application == .audio ? OpusFunctions.applicationAudio : OpusFunctions.applicationRestrictedLowDelay
        var error: Int32 = 0
        guard let pointer = functions.encoderCreate(Int32(format.rate), Int32(format.channels), mode, &error),
              error == OpusFunctions.ok
        else { throw .codecFailure("opus_encoder_create: \(functions.describe(error))") }
        self.functions = functions
        self.ctl = ctl
        self.pointer = pointer
    }

    deinit { functions.encoderDestroy(pointer) }

    func set(_ request: Int32, _ value: Int32, what: String) throws(OpusError) {
        let result = ctl.set(pointer, request, value)
        guard result == OpusFunctions.ok else { throw .codecFailure("setting \(what): \(functions.describe(result))") }
    }

    func lookahead() throws(OpusError) -> Int {
        var frames: Int32 = 0
        let result = ctl.get(pointer, OpusFunctions.getLookaheadRequest, &frames)
        guard result == OpusFunctions.ok else { throw .codecFailure("OPUS_GET_LOOKAHEAD: \(functions.describe(result))") }
        return Int(frames)
    }

    /// `OPUS_RESET_STATE` takes no argument; the extra 0 is passed in a register it never reads.
    func reset() { _ = ctl.set(pointer, OpusFunctions.resetState, 0) }

    /// One packet's bytes, or nil when libopus reports an error.
    func encode(_ pcm: [Int16], frames: Int) -> [UInt8]? {
        let capacity = Int32(packet.count)
        let length = pcm.withUnsafeBufferPointer { input in
            packet.withUnsafeMutableBufferPointer { output in
                functions.encode(pointer, input.baseAddress!, Int32(frames), output.baseAddress!, capacity)
            }
        }
        return length > 0 ? Array(packet[..<Int(length)]) : nil
    }
}
