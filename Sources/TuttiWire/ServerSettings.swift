import NIOCore

/// ServerSettings (type 3): the server tells a client its buffer, latency, volume and mute. JSON.
///
/// Sent first after a Hello (refersTo = the Hello's id) and again whenever one of them changes.
/// `latency` (ms) makes the client play that much earlier, to make up for a slow output;
/// Tutti's `latencyUs` says the same to the µs, to speakers that announced `latency-us`.
public struct ServerSettings: Hashable, Sendable {
    public var bufferMs: Int
    public var latency: Int
    /// Tutti: the latency in µs (then `latency` is it rounded to whole ms); nil when not sent.
    public var latencyMicroseconds: Int?
    /// Tutti: a level trim under `volume`, dB (≤ 0), to speakers that announced `trim`.
    public var trimDB: Double?
    public var volume: Int
    public var muted: Bool
    /// Tutti: the channel to play (`stereo`, `left`, `right`, `mono`), sent only to speakers
    /// that announced the `channel` capability; nil otherwise.
    public var channel: String?
    /// Tutti: how often to send ``SpeakerStatus`` (ms), sent only to speakers that announced
    /// the `status` capability; nil means "do not send any".
    public var statusIntervalMs: Int?
    /// Tutti: this connection's token for the time channel (``TimeDatagram``), sent only to
    /// speakers that announced its capability, by a server that runs it; nil otherwise.
    public var timeToken: UInt64?

    public init(
        bufferMs: Int = 1000, latency: Int = 0, latencyMicroseconds: Int? = nil, trimDB: Double? = nil, volume: Int = 100, muted: Bool = false,
        channel: String? = nil, statusIntervalMs: Int? = nil, timeToken: UInt64? = nil
    ) {
        self.timeToken = timeToken
        self.trimDB = trimDB
        self.bufferMs = bufferMs
        self.latency = latency
        self.latencyMicroseconds = latencyMicroseconds
        self.volume = volume
        self.muted = muted
        self.channel = channel
        self.statusIntervalMs = statusIntervalMs
    }

    private struct JSON: Codable {
        var bufferMs: Int?
        var latency: Int?
        var latencyUs: Int?
        var trimDb: Double?
        var volume: Int?
        var muted: Bool?
        var channel: String?
        var statusIntervalMs: Int?
        var timeToken: String?
    }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> ServerSettings {
        let text = try payload.readSnapString(field: "ServerSettings")
        let json = try decodeJSONPayload(JSON.self, from: text, message: "ServerSettings")
        return ServerSettings(
            bufferMs: json.bufferMs ?? 1000, latency: json.latency ?? 0, latencyMicroseconds: json.latencyUs, trimDB: json.trimDb,
            volume: json.volume ?? 100, muted: json.muted ?? false, channel: json.channel, statusIntervalMs: json.statusIntervalMs,
            timeToken: json.timeToken.flatMap(TimeDatagram.token(parsing:))
        )
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeSnapString(encodeJSONPayload(JSON(
            bufferMs: bufferMs, latency: latency, latencyUs: latencyMicroseconds, trimDb: trimDB, volume: volume, muted: muted, channel: channel, statusIntervalMs: statusIntervalMs,
            timeToken: timeToken.map(TimeDatagram.tokenText))))
    }
}
