import NIOCore

/// Splits a byte stream into ``SnapFrame``s, incrementally.
///
/// Feed it whatever arrived; ``next(from:)`` returns nil while a frame is incomplete (consuming
/// nothing) and throws a ``WireError`` as soon as a header is impossible (unknown type,
/// oversized payload) — without waiting for the announced bytes — or a complete payload is
/// malformed. After an error the stream cannot be resynchronized: drop the connection.
/// It also serves as a NIO `ByteToMessageDecoder`.
public struct SnapFrameDecoder: Sendable {
    /// The largest payload accepted; larger announced sizes throw ``WireError/oversized(type:size:)``.
    public var maximumPayloadSize: Int

    public init(maximumPayloadSize: Int = MessageHeader.maximumPayloadSize) {
        self.maximumPayloadSize = maximumPayloadSize
    }

    /// Decodes the next whole frame from `buffer`, or returns nil if more bytes are needed.
    public func next(from buffer: inout ByteBuffer) throws(WireError) -> SnapFrame? {
        guard let header = MessageHeader.peek(from: buffer) else { return nil }
        guard let type = MessageType(rawValue: header.type) else { throw .unknownType(header.type) }
        guard Int(header.payloadSize) <= maximumPayloadSize else {
            throw .oversized(type: header.type, size: header.payloadSize)
        }
        let total = MessageHeader.size + Int(header.payloadSize)
        guard buffer.readableBytes >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: MessageHeader.size)
        var payload = buffer.readSlice(length: Int(header.payloadSize))!  // Length checked above.
        let message = try SnapMessage.decode(type: type, payload: &payload)
        return SnapFrame(id: header.id, refersTo: header.refersTo, sent: header.sent, received: header.received, message: message)
    }
}

extension SnapFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SnapFrame

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let count = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: count)
            throw WireError.closedMidMessage(bufferedBytes: count)
        }
        return .needMoreData
    }
}

/// Encodes ``SnapFrame``s for a NIO pipeline.
public struct SnapFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = SnapFrame

    public init() {}

    public func encode(data: SnapFrame, out: inout ByteBuffer) throws {
        data.encode(into: &out)
    }
}
