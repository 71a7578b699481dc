import NIOCore

/// SpeakerStatus (Tutti's type 0x5454): a speaker's own report of how it plays — clock lock,
/// estimated clock error and rate, buffer, output delay, underruns. JSON in a string, like
/// Snapcast's other messages. Sent about once per `statusIntervalMs` to a server that asked.
public struct SpeakerStatusReport: Hashable, Sendable, Codable {
    public var locked: Bool
    /// Estimated standard error of the clock offset, µs.
    public var clockErrorUs: Double
    /// Server clock rate relative to the speaker's, ppm.
    public var ratePpm: Double
    /// Audio buffered ahead of the output, ms.
    public var bufferMs: Double
    /// The output's own delay, ms.
    public var outputDelayMs: Double
    public var underruns: Int
    public var hardSyncs: Int
    /// The playout error the resampler is correcting, µs.
    public var playoutErrorUs: Double
    /// Where its clock-sync messages go: `datagram` (Tutti's time channel) or `stream` (the
    /// audio connection); nil from a speaker that does not say.
    public var timeChannel: String?

    public init(
        locked: Bool = false, clockErrorUs: Double = 0, ratePpm: Double = 0, bufferMs: Double = 0, outputDelayMs: Double = 0,
        underruns: Int = 0, hardSyncs: Int = 0, playoutErrorUs: Double = 0, timeChannel: String? = nil
    ) {
        self.timeChannel = timeChannel
        self.locked = locked
        self.clockErrorUs = clockErrorUs
        self.ratePpm = ratePpm
        self.bufferMs = bufferMs
        self.outputDelayMs = outputDelayMs
        self.underruns = underruns
        self.hardSyncs = hardSyncs
        self.playoutErrorUs = playoutErrorUs
    }

    private struct JSON: Codable {
        var locked: Bool?
        var clockErrorUs: Double?
        var ratePpm: Double?
        var bufferMs: Double?
        var outputDelayMs: Double?
        var underruns: Int?
        var hardSyncs: Int?
        var playoutErrorUs: Double?
        var timeChannel: String?
    }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> SpeakerStatusReport {
        let text = try payload.readSnapString(field: "SpeakerStatus")
        let json = try decodeJSONPayload(JSON.self, from: text, message: "SpeakerStatus")
        return SpeakerStatusReport(
            locked: json.locked ?? false, clockErrorUs: json.clockErrorUs ?? 0, ratePpm: json.ratePpm ?? 0, bufferMs: json.bufferMs ?? 0,
            outputDelayMs: json.outputDelayMs ?? 0, underruns: json.underruns ?? 0, hardSyncs: json.hardSyncs ?? 0,
            playoutErrorUs: json.playoutErrorUs ?? 0, timeChannel: json.timeChannel.map { String($0.prefix(16)) })
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeSnapString(encodeJSONPayload(self))
    }
}
