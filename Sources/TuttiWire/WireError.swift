/// Why bytes from a peer could not be decoded. Every case names what was wrong, so the
/// session that drops the peer can log a useful reason.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header's size field exceeds ``MessageHeader/maximumPayloadSize``.
    case oversized(type: UInt16, size: UInt32)
    /// The header's type is not one of the v2 message types (1...7).
    case unknownType(UInt16)
    /// A field ran past the end of its message payload.
    case truncated(field: String)
    /// A payload had bytes left over after its last field.
    case trailingBytes(type: UInt16, count: Int)
    /// A field was readable but its content was wrong (bad JSON, wrong JSON type, bad UTF-8).
    case garbled(field: String, reason: String)
    /// The connection ended with part of a message still buffered.
    case closedMidMessage(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .oversized(let type, let size):
            "message of type \(type) announces \(size) payload bytes (limit \(MessageHeader.maximumPayloadSize))"
        case .unknownType(let type): "unknown message type \(type)"
        case .truncated(let field): "message truncated in \(field)"
        case .trailingBytes(let type, let count): "message of type \(type) has \(count) unexpected trailing bytes"
        case .garbled(let field, let reason): "garbled \(field): \(reason)"
        case .closedMidMessage(let count): "connection closed mid-message (\(count) bytes buffered)"
        }
    }
}
