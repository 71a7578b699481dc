import NIOCore

/// HostCall (Tutti, type 0x5455): a JSON-RPC 2.0 message between the server and a speaker
/// host — a request from the server (managing the host's Bluetooth speakers, say), or the
/// host's response. Sent to a speaker only if its Hello announced "rpc"; a speaker sends one
/// only in answer to the server's. The payload is a Snapcast string holding the JSON text,
/// kept as text here: the wire layer does not interpret it.
public struct HostCall: Hashable, Sendable {
    public var json: String

    public init(json: String) { self.json = json }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> HostCall {
        HostCall(json: try payload.readSnapString(field: "HostCall"))
    }

    func encode(into buffer: inout ByteBuffer) { buffer.writeSnapString(json) }
}
