import NIOCore

/// ClientInfo (type 7): a client reports a volume or mute change made on its side. JSON.
public struct ClientInfo: Hashable, Sendable {
    public var volume: Int
    public var muted: Bool

    public init(volume: Int = 100, muted: Bool = false) {
        self.volume = volume
        self.muted = muted
    }

    private struct JSON: Codable {
        var volume: Int?
        var muted: Bool?
    }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> ClientInfo {
        let text = try payload.readSnapString(field: "ClientInfo")
        let json = try decodeJSONPayload(JSON.self, from: text, message: "ClientInfo")
        return ClientInfo(volume: json.volume ?? 100, muted: json.muted ?? false)
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeSnapString(encodeJSONPayload(JSON(volume: volume, muted: muted)))
    }
}
