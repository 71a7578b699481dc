import TuttiWire

/// Everything `tutti speaker` needs: where the server is, who this speaker is, where its audio
/// goes, and (for measurement) how its simulated clock is off.
public struct SpeakerConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Stable identity sent in Hello (`ID`); the server keys settings by it (+ `#instance`).
    public var id: String
    /// Display name sent as the Hello's HostName.
    public var name: String
    public var instance: Int
    /// Extra latency of this speaker's output path (ms), on top of what the server sets.
    public var latencyMs: Int
    /// Output URI: `pipe:stdout`, `file:PATH.wav`, `null`, `alsa[:DEVICE]`, `pulse[:SINK]`.
    public var output: String
    /// Simulated clock error: the speaker's clock runs this far ahead...
    public var clockOffsetSeconds: Double
    /// ...and this many parts per million fast (negative: slow)...
    public var clockDriftPPM: Double
    /// ...and steps once while it runs: `bySeconds` later (negative: earlier) from `afterSeconds` on.
    public var clockStep: ClockStep?
    /// Whether to sync the clock over Tutti's time channel (datagrams of their own) where the
    /// server offers it; false keeps the Time messages in the stream connection, as Snapcast does.
    public var timeDatagrams: Bool

    public struct ClockStep: Sendable, Equatable {
        public var afterSeconds: Double
        public var bySeconds: Double
        public init(afterSeconds: Double, bySeconds: Double) {
            self.afterSeconds = afterSeconds
            self.bySeconds = bySeconds
        }
    }

    public init(
        host: String, port: Int = 1704, id: String, name: String? = nil, instance: Int = 1, latencyMs: Int = 0,
        output: String = "pipe:stdout", clockOffsetSeconds: Double = 0, clockDriftPPM: Double = 0, clockStep: ClockStep? = nil,
        timeDatagrams: Bool = true
    ) {
        self.timeDatagrams = timeDatagrams
        self.host = host
        self.port = port
        self.id = id
        self.name = name ?? id
        self.instance = instance
        self.latencyMs = latencyMs
        self.output = output
        self.clockOffsetSeconds = clockOffsetSeconds
        self.clockDriftPPM = clockDriftPPM
        self.clockStep = clockStep
    }

    /// Parses `HOST[:PORT]`, `[v6addr]:PORT` or a bare IPv6 address; nil if malformed.
    public static func parseServer(_ text: String, defaultPort: Int = 1704) -> (host: String, port: Int)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return host.isEmpty ? nil : (host, defaultPort) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65_535).contains(port) else { return nil }
            return (host, port)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard !parts[0].isEmpty, let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
            return (String(parts[0]), port)
        }
        return text.isEmpty ? nil : (text, defaultPort)
    }

    /// The Hello this speaker introduces itself with. The MAC is a locally administered address
    /// derived from the ID, so it is stable across restarts and distinct per speaker.
    func hello(hostCapabilities: [String] = []) -> Hello {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let bytes = (0..<5).map { UInt8(truncatingIfNeeded: hash >> (8 * $0)) }
        let mac = (["02"] + bytes.map { String($0, radix: 16).leftPadded(2) }).joined(separator: ":")
        return Hello(
            mac: mac, hostName: name, version: "0.26.0", clientName: "Tutti", os: "Linux", arch: Self.arch,
            instance: instance, id: id, protocolVersion: 2, capabilities: ["channel", "status", "latency-us", "trim"] + (timeDatagrams ? [TimeDatagram.capability] : []) + hostCapabilities)
    }

    #if arch(x86_64)
    static let arch = "x86_64"
    #elseif arch(arm64)
    static let arch = "aarch64"
    #else
    static let arch = "unknown"
    #endif
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
