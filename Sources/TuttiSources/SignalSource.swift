#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiAudio

/// Generates audio instead of reading it (`tone://`): a sine, a log sweep, or a music-like signal.
///
/// Never blocks and never runs out: every ``read`` fills the whole buffer (a frame split across
/// two reads is finished by the next one). Works in every sample format: 8-bit (signed, as
/// Snapcast streams carry it), 16-bit, 24-bit in 4-byte containers (sign-extended) and 32-bit
/// little-endian, any channel count. Phase is continuous across reads, and the output depends
/// only on the parameters and `seed`, so two sources built alike produce identical bytes.
public final class SignalSource: PCMSource {
    public let format: SampleFormat
    /// What is generated.
    public let kind: SourceURI.SignalKind
    /// The tone's frequency in Hz (used by `.tone` only).
    public let frequency: Double
    /// Peak level as a fraction of full scale, 0...1.
    public let amplitude: Double

    private var tonePhase = 0.0
    private var sweepFrame = 0
    private var music: MusicSynthesizer
    private var partialFrame: [UInt8] = []
    private var partialFrameOffset = 0

    /// The sweep runs from this frequency...
    static let sweepStart = 20.0
    /// ...to this one...
    static let sweepEnd = 20_000.0
    /// ...in this many seconds, then starts over.
    static let sweepSeconds = 10.0

    /// Creates a generator. `frequency` is clamped below half the sample rate, `amplitude` to 0...1.
    public init(kind: SourceURI.SignalKind, frequency: Double = 440, amplitude: Double = 0.5, format: SampleFormat, seed: UInt64 = 0x7077_7115) {
        self.kind = kind
        self.format = format
        self.frequency = min(max(frequency, 0), Double(format.rate) / 2 * 0.999)
        self.amplitude = min(max(amplitude, 0), 1)
        self.music = MusicSynthesizer(rate: Double(format.rate), seed: seed)
    }

    /// Fills `buffer` completely and returns `.bytes(buffer.count)` (`.timedOut` for an empty buffer).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        guard buffer.count > 0 else { return .timedOut }
        var written = 0
        if partialFrameOffset < partialFrame.count {
            let count = min(buffer.count, partialFrame.count - partialFrameOffset)
            for index in 0..<count { buffer[index] = partialFrame[partialFrameOffset + index] }
            partialFrameOffset += count
            written = count
        }
        let frameBytes = format.bytesPerFrame
        let wholeFrames = (buffer.count - written) / frameBytes
        if wholeFrames > 0 {
            generate(frames: wholeFrames, into: UnsafeMutableRawBufferPointer(rebasing: buffer[written...]))
            written += wholeFrames * frameBytes
        }
        if written < buffer.count {
            partialFrame = [UInt8](repeating: 0, count: frameBytes)
            partialFrame.withUnsafeMutableBytes { generate(frames: 1, into: $0) }
            let count = buffer.count - written
            for index in 0..<count { buffer[written + index] = partialFrame[index] }
            partialFrameOffset = count
        }
        return .bytes(buffer.count)
    }

    /// Nothing to release.
    public func close() {}

    private func generate(frames: Int, into buffer: UnsafeMutableRawBufferPointer) {
        let rate = Double(format.rate)
        let channels = format.channels
        let sampleBytes = format.bytesPerSample
        var offset = 0
        for _ in 0..<frames {
            let (left, right) = nextFrame(rate: rate)
            for channel in 0..<channels {
                let value = channels == 1 ? (left + right) / 2 : (channel % 2 == 0 ? left : right)
                Self.store(value * amplitude, bits: format.bits, at: offset, in: buffer)
                offset += sampleBytes
            }
        }
    }

    private func nextFrame(rate: Double) -> (Double, Double) {
        switch kind {
        case .tone:
            let value = sin(2 * .pi * tonePhase)
            tonePhase = (tonePhase + frequency / rate).truncatingRemainder(dividingBy: 1)
            return (value, value)
        case .sweep:
            let seconds = Double(sweepFrame) / rate
            sweepFrame = Double(sweepFrame + 1) >= Self.sweepSeconds * rate ? 0 : sweepFrame + 1
            let instantaneous = Self.sweepStart * pow(Self.sweepEnd / Self.sweepStart, seconds / Self.sweepSeconds)
            let value = sin(2 * .pi * tonePhase)
            tonePhase = (tonePhase + min(instantaneous, rate / 2) / rate).truncatingRemainder(dividingBy: 1)
            return (value, value)
        case .music:
            return music.nextFrame()
        }
    }

    /// Writes `value` (clamped to -1...1) as one little-endian sample of `bits` at `offset`.
    static func store(_ value: Double, bits: Int, at offset: Int, in buffer: UnsafeMutableRawBufferPointer) {
        let clamped = min(max(value, -1), 1)
        switch bits {
        case 8:
            buffer[offset] = UInt8(bitPattern: Int8((clamped * 127).rounded()))
        case 16:
            let sample = UInt16(bitPattern: Int16((clamped * 32_767).rounded()))
            buffer[offset] = UInt8(truncatingIfNeeded: sample)
            buffer[offset + 1] = UInt8(truncatingIfNeeded: sample >> 8)
        default:
            let scale = bits == 24 ? 8_388_607.0 : 2_147_483_647.0
            let sample = UInt32(bitPattern: Int32((clamped * scale).rounded()))
            for byte in 0..<4 { buffer[offset + byte] = UInt8(truncatingIfNeeded: sample >> (8 * UInt32(byte))) }
        }
    }
}
