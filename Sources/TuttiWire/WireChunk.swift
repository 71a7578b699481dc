import NIOCore

/// WireChunk (type 2): encoded audio and the server time of its first sample.
///
/// The timestamp is server-clock time at which the chunk's first sample was captured; it
/// advances by the exact duration of the samples sent, like a sample clock. A client plays
/// that sample at server time `timestamp + bufferMs − latency`.
public struct WireChunk: Hashable, Sendable {
    public var timestamp: TimeVal
    public var data: ByteBuffer

    public init(timestamp: TimeVal, data: ByteBuffer) {
        self.timestamp = timestamp
        self.data = data
    }

    static func decode(from buffer: inout ByteBuffer) throws(WireError) -> WireChunk {
        guard let timestamp = buffer.readTimeVal() else { throw .truncated(field: "WireChunk timestamp") }
        let data = try buffer.readSnapBlob(field: "WireChunk data")
        return WireChunk(timestamp: timestamp, data: data)
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeTimeVal(timestamp)
        buffer.writeSnapBlob(data)
    }
}
