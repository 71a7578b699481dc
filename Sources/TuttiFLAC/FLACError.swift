/// Why FLAC bytes could not be decoded, or a FLAC stream could not be described.
///
/// Every malformed input ends in one of these cases, never in a trap. Each names what was
/// wrong so a log line is enough to tell a truncated chunk from a damaged frame. Shared by the
/// decoder and the encoder (the encoder uses ``invalidParameter(_:)`` and ``badStreamInfo(_:)``).
public enum FLACError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before a field that had to be there; the text names the field.
    case endOfData(String)
    /// The stream does not start with the `fLaC` marker.
    case missingMarker
    /// A metadata block header or body is malformed (or STREAMINFO is not the first block).
    case badMetadata(String)
    /// STREAMINFO holds values FLAC does not allow.
    case badStreamInfo(String)
    /// No frame sync code (14 bits 0x3FFE, then a zero bit) where a frame should start.
    case lostSync
    /// A frame header field holds a reserved or invalid value.
    case badFrameHeader(String)
    /// The frame header's CRC-8 does not match its bytes.
    case headerCRCMismatch(expected: UInt8, computed: UInt8)
    /// The frame's CRC-16 does not match its bytes.
    case frameCRCMismatch(expected: UInt16, computed: UInt16)
    /// A subframe header or body is malformed (reserved type, bad order, negative shift…).
    case badSubframe(String)
    /// Residual coding is malformed (reserved method, partitions not fitting the block…).
    case badResidual(String)
    /// The frame disagrees with the stream (different channel count, sample size or rate).
    case streamMismatch(String)
    /// A caller-supplied parameter is out of range (encoder settings, stream description).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .endOfData(let what): "FLAC data ended early: \(what)"
        case .missingMarker: "not a FLAC stream: it does not start with 'fLaC'"
        case .badMetadata(let why): "bad FLAC metadata: \(why)"
        case .badStreamInfo(let why): "bad FLAC STREAMINFO: \(why)"
        case .lostSync: "no FLAC frame sync code where a frame should start"
        case .badFrameHeader(let why): "bad FLAC frame header: \(why)"
        case .headerCRCMismatch(let expected, let computed):
            "FLAC frame header CRC-8 mismatch (header says \(expected), bytes give \(computed))"
        case .frameCRCMismatch(let expected, let computed):
            "FLAC frame CRC-16 mismatch (frame says \(expected), bytes give \(computed))"
        case .badSubframe(let why): "bad FLAC subframe: \(why)"
        case .badResidual(let why): "bad FLAC residual: \(why)"
        case .streamMismatch(let why): "FLAC frame does not match the stream: \(why)"
        case .invalidParameter(let why): "invalid FLAC parameter: \(why)"
        }
    }
}
