import Foundation
import TuttiControl
import TuttiSources

/// Everything `tutti server` needs to start, from the command line and/or `tutti.toml`.
public struct ServerConfiguration: Sendable, Equatable {
    /// Per-speaker settings known before the speaker connects (until the control API lands,
    /// the config file is where a speaker is mapped to a stream).
    public struct SpeakerSettings: Sendable, Equatable {
        public var stream: String?
        public var volume: Int
        public var muted: Bool
        public var latencyMs: Int

        public init(stream: String? = nil, volume: Int = 100, muted: Bool = false, latencyMs: Int = 0) {
            self.stream = stream
            self.volume = volume
            self.muted = muted
            self.latencyMs = latencyMs
        }
    }

    /// The streams, in order; the first is the default stream.
    public var sources: [SourceURI]
    /// The playout buffer every speaker gets, in milliseconds (Snapcast's `buffer`).
    public var bufferMs: Int
    /// Address to listen on (`0.0.0.0` for all IPv4, `::` for all, `127.0.0.1` for loopback).
    public var bindAddress: String
    public var streamPort: Int
    /// JSON-RPC over TCP (Snapcast's 1705); 0 picks a free port.
    public var controlPort: Int
    /// HTTP (`POST /jsonrpc`, `GET /metrics`) and WebSocket (`/jsonrpc`) (Snapcast's 1780).
    public var httpPort: Int
    /// Where the state database and the token are kept (created if missing); nil keeps state
    /// in memory only (the demo, tests).
    public var dataDirectory: String?
    /// Speakers known before they first connect, by ID (a Hello's ID, or its MAC when the ID
    /// is empty). They seed the store on its first start; after that the store is the truth.
    public var speakers: [String: SpeakerSettings]
    /// Networks (CIDR) whose control clients need no token, besides loopback.
    public var trustedNetworks: [String]
    /// Directories whose files and FIFOs Stream.AddStream may open (nothing else on disk).
    public var mediaDirectories: [String]
    /// The control API's token; nil: read from (or generated into) the data directory.
    public var token: String?
    /// How long a control client may take to send a whole request (first one, or one it
    /// started), in seconds.
    public var controlTimeoutSeconds: Double = 10
    /// Whether loopback clients need no token (true; tests turn it off to exercise tokens).
    public var trustLoopback = true
    /// The time zone of routines' times of day (an IANA name, "Europe/Berlin"); nil: the system's.
    public var timeZone: String?

    public init(
        sources: [SourceURI], bufferMs: Int = 1000, bindAddress: String = "0.0.0.0",
        streamPort: Int = 1704, controlPort: Int = 1705, httpPort: Int = 1780,
        dataDirectory: String? = nil, speakers: [String: SpeakerSettings] = [:], trustedNetworks: [String] = [],
        mediaDirectories: [String] = [], token: String? = nil
    ) {
        self.sources = sources
        self.bufferMs = bufferMs
        self.bindAddress = bindAddress
        self.streamPort = streamPort
        self.controlPort = controlPort
        self.httpPort = httpPort
        self.dataDirectory = dataDirectory
        self.speakers = speakers
        self.trustedNetworks = trustedNetworks
        self.mediaDirectories = mediaDirectories
        self.token = token
    }

    /// Checks values that parse but cannot work; returns a message per problem (empty: fine).
    public func problems() -> [String] {
        var problems: [String] = []
        if sources.isEmpty { problems.append("no source: give --source URI or [[stream]] in the config") }
        var seen = Set<String>()
        for source in sources where !seen.insert(source.name).inserted {
            problems.append("two streams are named '\(source.name)'")
        }
        for source in sources {
            if let problem = StreamEncoders.problem(codec: source.codec, format: source.format) {
                problems.append("stream '\(source.name)': \(problem)")
            }
        }
        if !(20...10_000).contains(bufferMs) { problems.append("buffer \(bufferMs) ms is outside 20...10000") }
        for (name, port) in [("stream", streamPort), ("control", controlPort), ("http", httpPort)] where !(0...65_535).contains(port) {
            problems.append("\(name) port \(port) is outside 0...65535 (0: any free port)")
        }
        for (id, speaker) in speakers.sorted(by: { $0.key < $1.key }) {
            if let stream = speaker.stream, !sources.contains(where: { $0.name == stream }) {
                problems.append("speaker '\(id)' is mapped to unknown stream '\(stream)'")
            }
            if !(0...100).contains(speaker.volume) { problems.append("speaker '\(id)': volume \(speaker.volume) is outside 0...100") }
            if !SystemModel.latencyRange.contains(speaker.latencyMs) { problems.append("speaker '\(id)': latency \(speaker.latencyMs) ms is outside ±10000") }
        }
        for network in trustedNetworks {
            do {
                _ = try NetworkRange(parsing: network)
            } catch {
                problems.append(error.description)
            }
        }
        for directory in mediaDirectories where !directory.hasPrefix("/") {
            problems.append("media directory '\(directory)' is not an absolute path")
        }
        if let token, token.count < 16 { problems.append("the token must have at least 16 characters") }
        if let timeZone, TimeZone(identifier: timeZone) == nil { problems.append("'\(timeZone)' is not a time zone (an IANA name such as Europe/Berlin)") }
        return problems
    }
}
