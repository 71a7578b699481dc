import NIOCore
import TuttiTiming

/// One encoded chunk of a stream, as every session protocol sees it: the server time of its
/// first sample, when it was published, and the codec's bytes. Session adapters frame it for
/// their wire (a Snapcast WireChunk) once, and share that framing through ``framed(_:make:)``.
///
/// Confined to the server's event loop, like the stream that publishes it.
final class StreamPacket: @unchecked Sendable {
    /// Server time of the packet's first sample.
    let timestamp: Nanos
    /// Server time when it was published (the Snapcast header's `sent`).
    let sent: Nanos
    /// The codec's bytes for this packet.
    let payload: ByteBuffer
    private var framing: (protocol: ObjectIdentifier, bytes: ByteBuffer)?

    init(timestamp: Nanos, sent: Nanos, payload: ByteBuffer) {
        self.timestamp = timestamp
        self.sent = sent
        self.payload = payload
    }

    /// This packet framed for one session protocol (identified by its adapter type): made by
    /// the first session that asks, then shared — not copied — by every other session of that
    /// protocol. One protocol is cached; a second one would be framed per call.
    func framed<Adapter>(_ adapter: Adapter.Type, make: (StreamPacket) -> ByteBuffer) -> ByteBuffer {
        let key = ObjectIdentifier(adapter)
        if let framing, framing.protocol == key { return framing.bytes }
        let bytes = make(self)
        if framing == nil { framing = (key, bytes) }
        return bytes
    }
}
