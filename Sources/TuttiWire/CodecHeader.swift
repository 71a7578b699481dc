import NIOCore

/// CodecHeader (type 1): names the codec of the stream that follows and carries its header
/// (`pcm`: a 44-byte RIFF/WAVE header; `flac`: the stream's bytes before its first frame;
/// `opus`: the 12-byte "SUPO" header; `ogg`: the Ogg headers).
public struct CodecHeader: Hashable, Sendable {
    public var codec: String
    public var payload: ByteBuffer

    public init(codec: String, payload: ByteBuffer) {
        self.codec = codec
        self.payload = payload
    }

    static func decode(from buffer: inout ByteBuffer) throws(WireError) -> CodecHeader {
        let codec = try buffer.readSnapString(field: "CodecHeader codec")
        let payload = try buffer.readSnapBlob(field: "CodecHeader payload")
        return CodecHeader(codec: codec, payload: payload)
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeSnapString(codec)
        buffer.writeSnapBlob(payload)
    }
}
