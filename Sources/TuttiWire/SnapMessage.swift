import NIOCore

/// One decoded message of Snapcast's binary protocol v2, by type.
public enum SnapMessage: Hashable, Sendable {
    case codecHeader(CodecHeader)
    case wireChunk(WireChunk)
    case serverSettings(ServerSettings)
    case time(TimeMessage)
    case hello(Hello)
    case streamTags(StreamTags)
    case clientInfo(ClientInfo)
    case speakerStatus(SpeakerStatusReport)
    case hostCall(HostCall)

    /// The message's type code.
    public var type: MessageType {
        switch self {
        case .codecHeader: .codecHeader
        case .wireChunk: .wireChunk
        case .serverSettings: .serverSettings
        case .time: .time
        case .hello: .hello
        case .streamTags: .streamTags
        case .clientInfo: .clientInfo
        case .speakerStatus: .speakerStatus
        case .hostCall: .hostCall
        }
    }

    /// Decodes a whole payload of the given type; the payload must be consumed exactly.
    public static func decode(type: MessageType, payload: inout ByteBuffer) throws(WireError) -> SnapMessage {
        let message: SnapMessage =
            switch type {
            case .codecHeader: .codecHeader(try CodecHeader.decode(from: &payload))
            case .wireChunk: .wireChunk(try WireChunk.decode(from: &payload))
            case .serverSettings: .serverSettings(try ServerSettings.decode(from: &payload))
            case .time: .time(try TimeMessage.decode(from: &payload))
            case .hello: .hello(try Hello.decode(from: &payload))
            case .streamTags: .streamTags(try StreamTags.decode(from: &payload))
            case .clientInfo: .clientInfo(try ClientInfo.decode(from: &payload))
            case .speakerStatus: .speakerStatus(try SpeakerStatusReport.decode(from: &payload))
            case .hostCall: .hostCall(try HostCall.decode(from: &payload))
            }
        guard payload.readableBytes == 0 else {
            throw .trailingBytes(type: type.rawValue, count: payload.readableBytes)
        }
        return message
    }

    /// Appends the payload bytes (no header).
    public func encodePayload(into buffer: inout ByteBuffer) {
        switch self {
        case .codecHeader(let m): m.encode(into: &buffer)
        case .wireChunk(let m): m.encode(into: &buffer)
        case .serverSettings(let m): m.encode(into: &buffer)
        case .time(let m): m.encode(into: &buffer)
        case .hello(let m): m.encode(into: &buffer)
        case .streamTags(let m): m.encode(into: &buffer)
        case .clientInfo(let m): m.encode(into: &buffer)
        case .speakerStatus(let m): m.encode(into: &buffer)
        case .hostCall(let m): m.encode(into: &buffer)
        }
    }
}

/// A message with its header fields: what travels as one unit on the wire.
public struct SnapFrame: Hashable, Sendable {
    public var id: UInt16
    public var refersTo: UInt16
    public var sent: TimeVal
    public var received: TimeVal
    public var message: SnapMessage

    public init(id: UInt16 = 0, refersTo: UInt16 = 0, sent: TimeVal = .zero, received: TimeVal = .zero, message: SnapMessage) {
        self.id = id
        self.refersTo = refersTo
        self.sent = sent
        self.received = received
        self.message = message
    }

    /// Appends header and payload. The size field is patched in after the payload is written,
    /// so the payload is serialized once.
    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        MessageHeader(type: message.type.rawValue, id: id, refersTo: refersTo, sent: sent, received: received)
            .write(to: &buffer)
        let payloadStart = buffer.writerIndex
        message.encodePayload(into: &buffer)
        let size = UInt32(buffer.writerIndex - payloadStart)
        buffer.setInteger(size, at: start + MessageHeader.size - 4, endianness: .little)
    }

    /// Encodes into a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: MessageHeader.size + 64)
        encode(into: &buffer)
        return buffer
    }

    /// Byte offset of the `sent` field inside an encoded frame, for stamping just before writing.
    public static let sentFieldOffset = 6
}

extension ByteBuffer {
    /// Overwrites the `sent` field of the encoded frame starting at `frameStart` (used to stamp
    /// Time replies with the clock at the moment they are handed to the socket).
    public mutating func stampSent(_ time: TimeVal, frameStart: Int = 0) {
        let normal = TimeVal(nanoseconds: time.nanoseconds)
        setInteger(normal.sec, at: frameStart + SnapFrame.sentFieldOffset, endianness: .little)
        setInteger(normal.usec, at: frameStart + SnapFrame.sentFieldOffset + 4, endianness: .little)
    }
}
