import NIOCore

/// The 26-byte header in front of every message.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 2 | type (u16) |
/// | 2 | 2 | id (u16) |
/// | 4 | 2 | refersTo (u16) |
/// | 6 | 8 | sent (i32 sec, i32 usec) |
/// | 14 | 8 | received (i32 sec, i32 usec) |
/// | 22 | 4 | payload size (u32) |
///
/// All little-endian. `sent` is the sender's monotonic clock when it sent the message;
/// `received` is filled in by the receiver when it arrives (peers send it as they please).
public struct MessageHeader: Hashable, Sendable {
    /// The encoded size of a header.
    public static let size = 26
    /// The largest payload a Snapcast 0.26 peer accepts; larger ones drop the connection.
    public static let maximumPayloadSize = 1_000_000

    public var type: UInt16
    public var id: UInt16
    public var refersTo: UInt16
    public var sent: TimeVal
    public var received: TimeVal
    public var payloadSize: UInt32

    public init(
        type: UInt16, id: UInt16 = 0, refersTo: UInt16 = 0,
        sent: TimeVal = .zero, received: TimeVal = .zero, payloadSize: UInt32 = 0
    ) {
        self.type = type
        self.id = id
        self.refersTo = refersTo
        self.sent = sent
        self.received = received
        self.payloadSize = payloadSize
    }

    /// Reads a header if 26 bytes are readable; returns nil (consuming nothing) otherwise.
    public static func peek(from buffer: ByteBuffer) -> MessageHeader? {
        var copy = buffer
        guard
            let type = copy.readInteger(endianness: .little, as: UInt16.self),
            let id = copy.readInteger(endianness: .little, as: UInt16.self),
            let refersTo = copy.readInteger(endianness: .little, as: UInt16.self),
            let sent = copy.readTimeVal(),
            let received = copy.readTimeVal(),
            let size = copy.readInteger(endianness: .little, as: UInt32.self)
        else { return nil }
        return MessageHeader(type: type, id: id, refersTo: refersTo, sent: sent, received: received, payloadSize: size)
    }

    /// Appends the 26 header bytes.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(type, endianness: .little)
        buffer.writeInteger(id, endianness: .little)
        buffer.writeInteger(refersTo, endianness: .little)
        buffer.writeTimeVal(sent)
        buffer.writeTimeVal(received)
        buffer.writeInteger(payloadSize, endianness: .little)
    }
}
