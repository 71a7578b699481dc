import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// One half of a clock-sync round trip on Tutti's time channel: a UDP datagram to the port of
/// the speaker's stream connection, outside that connection, so a Time request never waits
/// behind an earlier one or a reply behind audio (DESIGN.md, "Real networks").
///
/// Only between Tutti peers: a Tutti speaker announces ``capability`` in its Hello, and a
/// Tutti server that runs the channel answers with a per-connection token in its
/// ServerSettings (`timeToken`). A request carries the token; the server answers only tokens
/// of connections it has open, so the channel reflects nothing to a forged address. Requests
/// and replies are the same size, so it amplifies nothing either. snapclient and snapserver
/// never see any of it.
///
/// 40 bytes, little-endian like Snapcast's frames: `TTIM`, version 1, kind (0 request,
/// 1 reply), the request's id (u16), the token (u64), then the clock readings in nanoseconds
/// (i64): t1 the client's send, t2 the server's receive, t3 the server's send (both 0 in a
/// request). Nanoseconds, not Snapcast's microseconds: the stamps are finer than the
/// quantum.
public struct TimeDatagram: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case request = 0, reply = 1 }

    /// The Hello capability of a speaker that can use the channel.
    public static let capability = "time-datagrams"
    /// A datagram's size in bytes (every one has it: anything else is not one).
    public static let size = 40
    static let magic: [UInt8] = Array("TTIM".utf8)
    static let version: UInt8 = 1

    public var kind: Kind
    public var id: UInt16
    public var token: UInt64
    /// t1: the client's clock when the request left.
    public var clientSent: Int64
    /// t2: the server's clock when the request arrived (0 in a request).
    public var serverReceived: Int64
    /// t3: the server's clock when the reply left (0 in a request).
    public var serverSent: Int64

    public init(kind: Kind, id: UInt16, token: UInt64, clientSent: Int64, serverReceived: Int64 = 0, serverSent: Int64 = 0) {
        self.kind = kind
        self.id = id
        self.token = token
        self.clientSent = clientSent
        self.serverReceived = serverReceived
        self.serverSent = serverSent
    }

    /// A request sent at client time `sent`.
    public static func request(id: UInt16, token: UInt64, sent: Int64) -> TimeDatagram {
        TimeDatagram(kind: .request, id: id, token: token, clientSent: sent)
    }

    /// The reply to this request: received at server time `received`, leaving at `sent`.
    public func reply(received: Int64, sent: Int64) -> TimeDatagram {
        TimeDatagram(kind: .reply, id: id, token: token, clientSent: clientSent, serverReceived: received, serverSent: sent)
    }

    /// Decodes one datagram; throws for anything that is not exactly one (wrong size, magic,
    /// version or kind). Reads the whole buffer.
    public static func decode(_ buffer: ByteBuffer) throws(WireError) -> TimeDatagram {
        guard buffer.readableBytes == size else {
            throw .garbled(field: "time datagram", reason: "\(buffer.readableBytes) bytes, not \(size)")
        }
        var buffer = buffer
        guard buffer.readBytes(length: 4) == magic else { throw .garbled(field: "time datagram", reason: "not a Tutti time datagram") }
        guard let version = buffer.readInteger(as: UInt8.self), version == Self.version else {
            throw .garbled(field: "time datagram", reason: "unknown version")
        }
        guard let rawKind = buffer.readInteger(as: UInt8.self), let kind = Kind(rawValue: rawKind) else {
            throw .garbled(field: "time datagram", reason: "unknown kind")
        }
        guard let id = buffer.readInteger(endianness: .little, as: UInt16.self),
              let token = buffer.readInteger(endianness: .little, as: UInt64.self),
              let t1 = buffer.readInteger(endianness: .little, as: Int64.self),
              let t2 = buffer.readInteger(endianness: .little, as: Int64.self),
              let t3 = buffer.readInteger(endianness: .little, as: Int64.self)
        else { throw .truncated(field: "time datagram") }
        return TimeDatagram(kind: kind, id: id, token: token, clientSent: t1, serverReceived: t2, serverSent: t3)
    }

    /// Writes the datagram's 40 bytes.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(id, endianness: .little)
        buffer.writeInteger(token, endianness: .little)
        buffer.writeInteger(clientSent, endianness: .little)
        buffer.writeInteger(serverReceived, endianness: .little)
        buffer.writeInteger(serverSent, endianness: .little)
    }

    /// The datagram in a buffer of its own.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.size)
        encode(into: &buffer)
        return buffer
    }

    /// A token as ServerSettings carries it (16 hex digits), and back.
    public static func tokenText(_ token: UInt64) -> String {
        let digits = String(token, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The token in a ServerSettings' `timeToken`; nil unless exactly 16 hex digits.
    public static func token(parsing text: String) -> UInt64? {
        guard text.utf8.count == 16, text.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        return UInt64(text, radix: 16)
    }
}

extension TimeDatagram {
    /// DSCP EF (expedited forwarding, 46) in the IP header's traffic-class byte: how real-time
    /// traffic asks Wi-Fi (WMM's voice queue) and routers to send it first.
    public static let trafficClass: Int32 = 46 << 2

    /// Marks a datagram channel's packets with ``trafficClass`` (fails where the system refuses).
    public static func markExpedited(_ channel: any Channel, ipv6: Bool) -> EventLoopFuture<Void> {
        let option = ipv6
            ? ChannelOptions.Types.SocketOption(level: .init(rawValue: Int32(IPPROTO_IPV6)), name: .init(rawValue: IPV6_TCLASS))
            : ChannelOptions.Types.SocketOption(level: .init(rawValue: Int32(IPPROTO_IP)), name: .init(rawValue: IP_TOS))
        return channel.setOption(option, value: SocketOptionValue(trafficClass))
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
