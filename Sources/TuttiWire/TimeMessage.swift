import NIOCore

/// Time (type 4): one half of a clock-sync round trip; its payload is one `TimeVal`.
///
/// Client → server: `latency` is unused (zero), the header's `sent` is the client clock.
/// Server → client: `refersTo` = the request's id, `latency` = server receive time − client
/// send time (c2s), and the header's `sent` = server clock when the reply left.
public struct TimeMessage: Hashable, Sendable {
    public var latency: TimeVal

    public init(latency: TimeVal = .zero) { self.latency = latency }

    static func decode(from buffer: inout ByteBuffer) throws(WireError) -> TimeMessage {
        guard let latency = buffer.readTimeVal() else { throw .truncated(field: "Time latency") }
        return TimeMessage(latency: latency)
    }

    func encode(into buffer: inout ByteBuffer) { buffer.writeTimeVal(latency) }
}
