/// A RIFF/WAVE header for integer PCM: what ``parse(_:)`` found in a file or a codec header,
/// and the canonical 44-byte header ``canonicalBytes(for:dataSize:)`` writes.
///
/// Parsing accepts format 1 (PCM) and `WAVE_FORMAT_EXTENSIBLE` with the PCM sub-format, 8, 16,
/// 24 and 32 bits, skips chunks it does not know (`LIST`, `fact`, `id3 `, ...) and stops at the
/// `data` chunk, whose contents it does not need. Bad input throws ``WAVHeaderError``; it never traps.
///
/// The stream format (``format``) is taken from rate, bits and channels, the only fields a Snapcast
/// client reads from a PCM codec header. How samples sit in the data chunk is ``bytesPerContainer``:
/// a 24-bit file on disk usually packs samples in 3 bytes, while Tutti and Snapcast carry 24-bit
/// samples in 4-byte containers (low three bytes significant, sign-extended).
public struct WAVHeader: Equatable, Sendable {
    /// Rate, significant bits (8/16/24/32) and channels of the samples.
    ///
    /// For `WAVE_FORMAT_EXTENSIBLE`, bits are the container's bits: 24 valid bits left-justified in
    /// a 32-bit container are played as 32-bit samples, which is exactly what they are.
    public var format: SampleFormat
    /// Bytes one sample occupies in the data chunk: 1, 2, 3 (packed 24-bit) or 4.
    public var bytesPerContainer: Int
    /// Offset of the first data byte from the start of the header bytes.
    public var dataOffset: Int
    /// The data chunk's declared size. Streams write 0 or ``unknownSize``; a reader should trust
    /// the file's length over this when the two disagree.
    public var dataSize: UInt32
    /// True when the fmt chunk was `WAVE_FORMAT_EXTENSIBLE` (0xFFFE).
    public var isExtensible: Bool

    /// Bytes in the canonical header: RIFF(12) + fmt(8+16) + data header(8).
    public static let canonicalSize = 44
    /// The size streams write when the length is not known yet.
    public static let unknownSize: UInt32 = 0xFFFF_FFFF

    /// Bytes one frame occupies in the data chunk (``bytesPerContainer`` × channels).
    public var bytesPerFrameInFile: Int { bytesPerContainer * format.channels }

    /// Creates a header value; does not validate.
    public init(format: SampleFormat, bytesPerContainer: Int, dataOffset: Int, dataSize: UInt32, isExtensible: Bool = false) {
        self.format = format
        self.bytesPerContainer = bytesPerContainer
        self.dataOffset = dataOffset
        self.dataSize = dataSize
        self.isExtensible = isExtensible
    }
}

// MARK: - Writing

extension WAVHeader {
    /// The canonical 44-byte header for `format` and `dataSize` data bytes.
    ///
    /// Fields are those of Snapcast's PCM codec header (format 1, channels, rate, bits as
    /// ``SampleFormat/bits``) with one deliberate difference: block align and byte rate describe
    /// the bytes that really follow, so 24-bit samples in 4-byte containers give block align
    /// `channels * 4` where Snapcast writes `channels * 3`. Snapcast clients read only rate, bits
    /// and channels, so both decode alike. `dataSize` 0 gives Snapcast's codec header sizes
    /// (RIFF size 36, data size 0). Sizes above what 32 bits hold are written as ``unknownSize``.
    public static func canonicalBytes(for format: SampleFormat, dataSize: UInt64) -> [UInt8] {
        let dataField = dataSize > UInt64(unknownSize) - 36 ? unknownSize : UInt32(dataSize)
        let riffField = dataField == unknownSize ? unknownSize : dataField + 36
        return canonicalBytes(for: format, riffSize: riffField, dataSize: dataField)
    }

    /// A header for a stream whose length is not known yet: both sizes are ``unknownSize``.
    ///
    /// A writer puts this first, streams the data, and on finalize overwrites the first 44 bytes
    /// with ``canonicalBytes(for:dataSize:)`` for the final data size.
    public static func streamingPlaceholder(for format: SampleFormat) -> [UInt8] {
        canonicalBytes(for: format, riffSize: unknownSize, dataSize: unknownSize)
    }

    private static func canonicalBytes(for format: SampleFormat, riffSize: UInt32, dataSize: UInt32) -> [UInt8] {
        let blockAlign = format.bytesPerFrame
        var bytes: [UInt8] = []
        bytes.reserveCapacity(canonicalSize)
        bytes.append(contentsOf: Array("RIFF".utf8))
        bytes.appendLittleEndian(riffSize)
        bytes.append(contentsOf: Array("WAVEfmt ".utf8))
        bytes.appendLittleEndian(UInt32(16))
        bytes.appendLittleEndian(UInt16(1))
        bytes.appendLittleEndian(UInt16(truncatingIfNeeded: format.channels))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: format.rate))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: format.rate * blockAlign))
        bytes.appendLittleEndian(UInt16(truncatingIfNeeded: blockAlign))
        bytes.appendLittleEndian(UInt16(truncatingIfNeeded: format.bits))
        bytes.append(contentsOf: Array("data".utf8))
        bytes.appendLittleEndian(dataSize)
        return bytes
    }
}

// MARK: - Parsing

extension WAVHeader {
    private static let formatPCM: UInt16 = 1
    private static let formatExtensible: UInt16 = 0xFFFE

    /// Parses the header at the start of `bytes`, up to and including the `data` chunk's header.
    ///
    /// `bytes` need not hold any sample data. When it ends before the `data` chunk header,
    /// throws ``WAVHeaderError/truncated(needed:)`` with the length that lets parsing go further,
    /// so a file reader can read more and try again (each retry needs at least 8 more bytes).
    /// Odd-sized chunks are followed by a pad byte, as RIFF requires.
    public static func parse(_ bytes: [UInt8]) throws(WAVHeaderError) -> WAVHeader {
        guard bytes.count >= 12 else { throw .truncated(needed: 12) }
        let riff = bytes.fourCC(at: 0)
        guard riff == "RIFF" else { throw .notRIFF(found: riff) }
        let wave = bytes.fourCC(at: 8)
        guard wave == "WAVE" else { throw .notWAVE(found: wave) }

        var position = 12
        var parsedFormat: (format: SampleFormat, container: Int, extensible: Bool)?
        while true {
            guard bytes.count >= position + 8 else { throw .truncated(needed: position + 8) }
            let id = bytes.fourCC(at: position)
            let size = Int(bytes.littleEndianUInt32(at: position + 4))
            let body = position + 8
            switch id {
            case "fmt ":
                guard bytes.count >= body + size else { throw .truncated(needed: body + size) }
                parsedFormat = try parseFormatChunk(bytes[body..<(body + size)])
            case "data":
                guard let parsedFormat else { throw .missingFormatChunk }
                return WAVHeader(
                    format: parsedFormat.format, bytesPerContainer: parsedFormat.container,
                    dataOffset: body, dataSize: UInt32(size), isExtensible: parsedFormat.extensible
                )
            default:
                break
            }
            position = body + size + (size & 1)
        }
    }

    private static func parseFormatChunk(
        _ chunk: ArraySlice<UInt8>
    ) throws(WAVHeaderError) -> (format: SampleFormat, container: Int, extensible: Bool) {
        let chunk = Array(chunk)
        guard chunk.count >= 16 else { throw .malformedFormatChunk("fmt chunk is \(chunk.count) bytes, needs at least 16") }
        var formatTag = chunk.littleEndianUInt16(at: 0)
        let channels = Int(chunk.littleEndianUInt16(at: 2))
        let rate = Int(chunk.littleEndianUInt32(at: 4))
        let blockAlign = Int(chunk.littleEndianUInt16(at: 12))
        let containerBits = Int(chunk.littleEndianUInt16(at: 14))
        let extensible = formatTag == formatExtensible
        if extensible {
            guard chunk.count >= 40 else {
                throw .malformedFormatChunk("WAVE_FORMAT_EXTENSIBLE fmt chunk is \(chunk.count) bytes, needs 40")
            }
            let validBits = Int(chunk.littleEndianUInt16(at: 18))
            guard validBits <= containerBits else {
                throw .malformedFormatChunk("\(validBits) valid bits exceed the \(containerBits)-bit container")
            }
            formatTag = chunk.littleEndianUInt16(at: 24)  // first two bytes of the sub-format GUID
        }
        guard formatTag == formatPCM else { throw .unsupportedEncoding(formatTag: formatTag) }
        guard channels > 0 else { throw .malformedFormatChunk("0 channels") }

        let bits: Int
        let container: Int
        if extensible {
            // Valid bits sit left-justified in the container, so the container's bits are the
            // samples' bits as far as playback is concerned.
            bits = containerBits
            container = containerBits / 8
        } else {
            bits = containerBits
            container = blockAlign / channels
        }
        guard [8, 16, 24, 32].contains(bits) else {
            throw .unsupportedSampleFormat("\(bits) bits per sample is not one of 8, 16, 24, 32")
        }
        guard blockAlign == container * channels, container >= (bits + 7) / 8, container <= 4 else {
            throw .malformedFormatChunk("block align \(blockAlign) does not fit \(channels) channels of \(bits)-bit samples")
        }
        let format: SampleFormat
        do {
            format = try SampleFormat(parsing: "\(rate):\(bits):\(channels)")
        } catch {
            throw .unsupportedSampleFormat(error.description)
        }
        return (format, container, extensible)
    }
}

/// Why bytes are not a WAV header Tutti can use.
public enum WAVHeaderError: Error, Equatable, CustomStringConvertible {
    /// The input ends before the `data` chunk header; `needed` bytes from the start let parsing go on.
    case truncated(needed: Int)
    /// The first four bytes are not `RIFF` (RF64 and RIFX are not supported).
    case notRIFF(found: String)
    /// Bytes 8..<12 are not `WAVE`.
    case notWAVE(found: String)
    /// A `data` chunk came before any `fmt ` chunk.
    case missingFormatChunk
    /// The `fmt ` chunk is too short or inconsistent.
    case malformedFormatChunk(String)
    /// Not integer PCM (e.g. 3 = IEEE float, 0x55 = MP3).
    case unsupportedEncoding(formatTag: UInt16)
    /// Integer PCM, but with bits, rate or channels Tutti does not carry.
    case unsupportedSampleFormat(String)

    public var description: String {
        switch self {
        case .truncated(let needed): "WAV header is truncated (needs at least \(needed) bytes)"
        case .notRIFF(let found): "not a RIFF file (starts with '\(found)')"
        case .notWAVE(let found): "RIFF file is '\(found)', not 'WAVE'"
        case .missingFormatChunk: "WAV data chunk comes before any fmt chunk"
        case .malformedFormatChunk(let why): "malformed WAV fmt chunk: \(why)"
        case .unsupportedEncoding(let tag): "WAV encoding 0x\(String(tag, radix: 16)) is not integer PCM"
        case .unsupportedSampleFormat(let why): "unsupported WAV sample format: \(why)"
        }
    }
}

// MARK: - Byte helpers

extension [UInt8] {
    fileprivate mutating func appendLittleEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)])
    }

    fileprivate mutating func appendLittleEndian(_ value: UInt16) {
        append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)])
    }

    fileprivate func littleEndianUInt16(at index: Int) -> UInt16 {
        UInt16(self[index]) | UInt16(self[index + 1]) << 8
    }

    fileprivate func littleEndianUInt32(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3]) << 24
    }

    /// Four bytes as text, non-printable bytes shown as `?` so error messages stay readable.
    fileprivate func fourCC(at index: Int) -> String {
        String(decoding: self[index..<(index + 4)].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
