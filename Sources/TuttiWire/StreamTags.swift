import NIOCore

/// StreamTags (type 6): stream metadata as a JSON string. Unused by 0.26 peers; Tutti never
/// sends it and keeps what it receives as raw text without interpreting it.
public struct StreamTags: Hashable, Sendable {
    public var json: String

    public init(json: String = "{}") { self.json = json }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> StreamTags {
        StreamTags(json: try payload.readSnapString(field: "StreamTags"))
    }

    func encode(into buffer: inout ByteBuffer) { buffer.writeSnapString(json) }
}
