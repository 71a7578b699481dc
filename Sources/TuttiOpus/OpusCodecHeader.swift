import TuttiAudio

/// Snapcast's 12-byte Opus pseudo header, the CodecHeader payload of an `opus` stream.
///
/// Raw Opus packets carry no sample format, so Snapcast sends one (all little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `0x4F505553` (the bytes `S U P O`) |
/// | 4 | 4 | sample rate |
/// | 8 | 2 | bits per sample (16) |
/// | 10 | 2 | channels |
///
/// (Snapcast's `server/encoder/opus_encoder.cpp` writes these fields with host-order stores
/// behind `SWAP_32`/`SWAP_16`, which swap only on big-endian hosts, so the wire is
/// little-endian; `client/decoder/opus_decoder.cpp` reads them back the same way.)
public struct OpusCodecHeader: Equatable, Sendable {
    /// The magic number, read as a little-endian `UInt32`.
    public static let magic: UInt32 = 0x4F50_5553
    /// The header's size on the wire.
    public static let size = 12
    /// The rates libopus encodes and decodes at.
    public static let opusRates: Set<Int> = [8000, 12000, 16000, 24000, 48000]

    /// The stream's format: an Opus rate, the source's bit depth, 1 or 2 channels.
    public let format: SampleFormat

    /// Describes `format`; does not validate (the encoder validates before making one).
    public init(format: SampleFormat) { self.format = format }

    /// Parses and validates header bytes received from a server.
    ///
    /// - Throws: ``DecoderError/badHeader(_:)`` naming the problem: not exactly 12 bytes, wrong
    ///   magic, a rate libopus cannot decode at, bits other than 8/16/24/32, channels not 1 or 2.
    public init(parsing bytes: [UInt8]) throws(DecoderError) {
        guard bytes.count == Self.size else {
            throw .badHeader("an Opus header is \(Self.size) bytes, got \(bytes.count)")
        }
        func le(_ offset: Int, _ count: Int) -> Int {
            (0..<count).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let magic = UInt32(le(0, 4))
        guard magic == Self.magic else {
            throw .badHeader("Opus header magic is 0x\(String(magic, radix: 16)), expected 0x4f505553 ('SUPO')")
        }
        let rate = le(4, 4), bits = le(8, 2), channels = le(10, 2)
        guard Self.opusRates.contains(rate) else {
            throw .badHeader("Opus cannot run at \(rate) Hz (8000, 12000, 16000, 24000 or 48000)")
        }
        guard [8, 16, 24, 32].contains(bits) else { throw .badHeader("\(bits) bits per sample in an Opus header") }
        guard (1...2).contains(channels) else { throw .badHeader("Opus carries 1 or 2 channels, header says \(channels)") }
        format = SampleFormat(rate: rate, bits: bits, channels: channels)
    }

    /// The 12 wire bytes.
    public var bytes: [UInt8] {
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        return le(Int(Self.magic), 4) + le(format.rate, 4) + le(format.bits, 2) + le(format.channels, 2)
    }
}
