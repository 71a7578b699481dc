import Foundation

/// The objects of Snapcast's control API (0.26 shapes, keys as its server writes them), made
/// from the model, with Tutti's additions in extra keys that Snapcast's clients ignore:
/// a client's `config.channel`, `capabilities`, `sync`, `pair` and `playing`; the server's `pairs` and `party`.
public enum SnapcastJSON {
    /// A latency in ms: an integer when it is whole (all Snapcast knows), else to the µs.
    public static func latency(_ microseconds: Int) -> JSON {
        microseconds % 1000 == 0 ? .int(microseconds / 1000) : .double(Double(microseconds) / 1000)
    }

    /// A client; `group`, when the caller knows it, spares a search.
    public static func client(_ speaker: Speaker, in model: SystemModel, group: SpeakerGroup? = nil) -> JSON {
        [
            "id": .string(speaker.id),
            "connected": .bool(speaker.connected),
            "host": host(speaker.host),
            "config": [
                "instance": .int(speaker.instance),
                "latency": latency(speaker.latencyMicroseconds),
                "name": .string(speaker.name),
                "volume": volume(speaker),
                "channel": .string(speaker.channel.rawValue),
                "trimDb": .double(speaker.trimDB),
            ],
            "lastSeen": ["sec": .int(speaker.lastSeen.sec), "usec": .int(speaker.lastSeen.usec)],
            "snapclient": [
                "name": .string(speaker.software.name), "protocolVersion": .int(speaker.software.protocolVersion),
                "version": .string(speaker.software.version),
            ],
            "capabilities": .array(speaker.capabilities.map(JSON.string)),
            "sync": speaker.sync.map(sync) ?? .null,
            "pair": model.pair(of: speaker.id).map { .string($0.id) } ?? .null,
            "playing": playing(speaker, in: model, group: group),
        ]
    }

    /// `{"state", "code", "reason"}`: whether the speaker plays, and if not, why.
    public static func playing(_ speaker: Speaker, in model: SystemModel, group: SpeakerGroup? = nil) -> JSON {
        let state = group.map { model.playState(of: speaker, in: $0) } ?? model.playState(of: speaker)
        return ["state": .string(state.state.rawValue), "code": .string(state.code), "reason": .string(state.reason)]
    }

    public static func host(_ host: HostInfo) -> JSON {
        ["arch": .string(host.arch), "ip": .string(host.ip), "mac": .string(host.mac), "name": .string(host.name), "os": .string(host.os)]
    }

    public static func volume(_ speaker: Speaker) -> JSON {
        ["muted": .bool(speaker.muted), "percent": .int(speaker.volume)]
    }

    public static func sync(_ status: SyncStatus) -> JSON {
        var members: [String: JSON] = [
            "locked": .bool(status.locked),
            "clockErrorUs": .double(status.clockErrorMicroseconds),
            "ratePpm": .double(status.ratePPM),
            "bufferMs": .double(status.bufferMs),
            "outputDelayMs": .double(status.outputDelayMs),
            "underruns": .int(status.underruns),
            "hardSyncs": .int(status.hardSyncs),
            "playoutErrorUs": .double(status.playoutErrorMicroseconds),
        ]
        if let channel = status.timeChannel { members["timeChannel"] = .string(channel) }
        return .object(members)
    }

    public static func group(_ group: SpeakerGroup, in model: SystemModel) -> JSON {
        self.group(group, in: model, speakers: nil)
    }

    /// `speakers` by ID, when rendering every group: linear in the speakers, not quadratic
    /// (a new speaker's Server.OnUpdate renders them all; 200 connecting at once did that 200 times).
    static func group(_ group: SpeakerGroup, in model: SystemModel, speakers: [String: Speaker]?) -> JSON {
        let members = group.speakerIDs.compactMap { id in speakers.map { $0[id] } ?? model.speaker(id) }
        return [
            "id": .string(group.id),
            "name": .string(group.name),
            "muted": .bool(group.muted),
            "stream_id": .string(group.streamID),
            "clients": .array(members.map { client($0, in: model, group: group) }),
        ]
    }

    public static func stream(_ stream: StreamInfo) -> JSON {
        let uri = StreamURIParts(stream.uri)
        return [
            "id": .string(stream.id),
            "status": .string(stream.status.rawValue),
            "uri": [
                "raw": .string(stream.uri), "scheme": .string(uri.scheme), "host": .string(uri.host),
                "path": .string(uri.path), "fragment": .string(uri.fragment),
                "query": .object(uri.query.mapValues(JSON.string)),
            ],
            "properties": .object(stream.properties.merging(Self.noControls) { mine, _ in mine }),
        ]
    }

    /// Tutti's sources cannot be told to skip or pause: every control is off.
    static let noControls: [String: JSON] = [
        "canControl": false, "canGoNext": false, "canGoPrevious": false, "canPause": false, "canPlay": false, "canSeek": false,
    ]

    public static func pair(_ pair: StereoPair) -> JSON {
        ["id": .string(pair.id), "name": .string(pair.name), "left": .string(pair.left), "right": .string(pair.right)]
    }

    /// The whole picture: Server.GetStatus's `server`, and Server.OnUpdate's.
    public static func server(_ model: SystemModel, identity: ServerIdentity) -> JSON {
        let speakers = Dictionary(model.speakers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return [
            "server": [
                "host": host(identity.host),
                "snapserver": [
                    "controlProtocolVersion": 1, "name": .string(identity.name), "protocolVersion": 1,
                    "version": .string(identity.version),
                ],
            ],
            "groups": .array(model.groups.map { group($0, in: model, speakers: speakers) }),
            "streams": .array(model.streams.map(stream)),
            "pairs": .array(model.pairs.map(pair)),
            "party": model.party.map { ["on": true, "group_id": .string($0.groupID)] } ?? ["on": false],
        ]
    }
}

/// Who the server says it is in Server.GetStatus. The version is Snapcast's release whose
/// API Tutti implements: clients such as the `snapcast` Python package gate features on it.
public struct ServerIdentity: Sendable, Equatable {
    public var name: String
    public var version: String
    public var host: HostInfo

    public init(name: String = "Snapserver", version: String = "0.26.0", host: HostInfo = HostInfo()) {
        self.name = name
        self.version = version
        self.host = host
    }
}

/// A stream URI split as Snapcast's `uri` object shows it. Never fails: text it cannot split
/// ends up in `path`.
struct StreamURIParts: Equatable {
    var scheme = ""
    var host = ""
    var path = ""
    var fragment = ""
    var query: [String: String] = [:]

    init(_ raw: String) {
        var rest = Substring(raw)
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
            let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            host = String(rest[..<hostEnd])
            rest = rest[hostEnd...]
        }
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            for item in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = item.split(separator: "=", maxSplits: 1)
                let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                query[key] = value
            }
            rest = rest[..<question]
        }
        path = String(rest)
    }
}
