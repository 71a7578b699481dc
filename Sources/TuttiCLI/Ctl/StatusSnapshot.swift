import TuttiControl

/// Server.GetStatus as `tutti ctl` reads it: groups, speakers, streams, pairs and party mode,
/// from Snapcast's shapes and Tutti's additions (absent from a real snapserver's answer).
struct StatusSnapshot {
    struct Client {
        var id: String
        var name: String
        var hostName: String
        var connected: Bool
        var volume: Int
        var muted: Bool
        /// ms (to the µs after a calibration).
        var latency: Double
        var channel: String
        var software: String
        var sync: JSON?
        /// The server's `playing` object: `{state, code, reason}` (nil from an older server).
        var playing: JSON? = nil
        var displayName: String { !name.isEmpty ? name : !hostName.isEmpty ? hostName : id }
    }

    struct Group {
        var id: String
        var name: String
        var stream: String
        var muted: Bool
        var clients: [Client]
        var displayName: String { name.isEmpty ? clients.map(\.displayName).joined(separator: " + ") : name }
    }

    struct Stream {
        var id: String
        var status: String
        var uri: String
    }

    struct Pair {
        var id: String
        var name: String
        var left: String
        var right: String
    }

    var groups: [Group] = []
    var streams: [Stream] = []
    var pairs: [Pair] = []
    var partyGroup: String?

    /// Reads Server.GetStatus's result (`{"server": …}`).
    init(_ result: JSON) {
        let server = result["server"] ?? .null
        groups = (server["groups"]?.arrayValue ?? []).map { group in
            Group(
                id: group["id"]?.stringValue ?? "", name: group["name"]?.stringValue ?? "", stream: group["stream_id"]?.stringValue ?? "",
                muted: group["muted"]?.boolValue ?? false,
                clients: (group["clients"]?.arrayValue ?? []).map { client in
                    Client(
                        id: client["id"]?.stringValue ?? "", name: client["config"]?["name"]?.stringValue ?? "",
                        hostName: client["host"]?["name"]?.stringValue ?? "", connected: client["connected"]?.boolValue ?? false,
                        volume: client["config"]?["volume"]?["percent"]?.intValue ?? 0,
                        muted: client["config"]?["volume"]?["muted"]?.boolValue ?? false,
                        latency: client["config"]?["latency"]?.doubleValue ?? 0, channel: client["config"]?["channel"]?.stringValue ?? "stereo",
                        software: [client["snapclient"]?["name"]?.stringValue, client["snapclient"]?["version"]?.stringValue].compactMap { $0 }.joined(separator: " "),
                        sync: client["sync"] == .null ? nil : client["sync"], playing: client["playing"])
                })
        }
        streams = (server["streams"]?.arrayValue ?? []).map { stream in
            Stream(id: stream["id"]?.stringValue ?? "", status: stream["status"]?.stringValue ?? "", uri: stream["uri"]?["raw"]?.stringValue ?? "")
        }
        pairs = (server["pairs"]?.arrayValue ?? []).map { pair in
            Pair(id: pair["id"]?.stringValue ?? "", name: pair["name"]?.stringValue ?? "", left: pair["left"]?.stringValue ?? "", right: pair["right"]?.stringValue ?? "")
        }
        if server["party"]?["on"] == true { partyGroup = server["party"]?["group_id"]?.stringValue }
    }

    var clients: [Client] { groups.flatMap(\.clients) }

    /// The IDs of the clients that are connected now.
    var connectedIDs: Set<String> { Set(clients.filter(\.connected).map(\.id)) }

    func group(of speaker: String) -> Group? { groups.first { $0.clients.contains { $0.id == speaker } } }

    // MARK: Names

    func speaker(_ query: String) throws(CtlError) -> Client {
        let id = try Self.resolve(query, kind: "speaker", clients.map { NameMatcher.Candidate(id: $0.id, names: [$0.displayName, $0.name, $0.hostName]) })
        return clients.first { $0.id == id }!
    }

    /// A group by its name, or the group a named speaker is in.
    func group(_ query: String) throws(CtlError) -> Group {
        let candidates = groups.map { NameMatcher.Candidate(id: $0.id, names: [$0.displayName]) }
        if case .found(let hit) = NameMatcher.match(query, among: candidates) { return groups.first { $0.id == hit.id }! }
        if case .found(let hit) = NameMatcher.match(query, among: clients.map { NameMatcher.Candidate(id: $0.id, names: [$0.displayName, $0.hostName]) }),
            let group = group(of: hit.id)
        {
            return group
        }
        let id = try Self.resolve(query, kind: "group", candidates)
        return groups.first { $0.id == id }!
    }

    func stream(_ query: String) throws(CtlError) -> Stream {
        let id = try Self.resolve(query, kind: "stream", streams.map { NameMatcher.Candidate(id: $0.id, names: [$0.id]) })
        return streams.first { $0.id == id }!
    }

    func pair(_ query: String) throws(CtlError) -> Pair {
        var candidates = pairs.map { NameMatcher.Candidate(id: $0.id, names: [$0.name]) }
        // A pair also answers to either member's name.
        for pair in pairs {
            for member in [pair.left, pair.right] {
                if let client = clients.first(where: { $0.id == member }) { candidates.append(.init(id: pair.id, names: [client.displayName])) }
            }
        }
        let id = try Self.resolve(query, kind: "stereo pair", candidates)
        return pairs.first { $0.id == id }!
    }

    private static func resolve(_ query: String, kind: String, _ candidates: [NameMatcher.Candidate]) throws(CtlError) -> String {
        switch NameMatcher.match(query, among: candidates) {
        case .found(let hit):
            return hit.id
        case .ambiguous(let hits):
            let names = Array(Set(hits.map { "\($0.displayName) (\($0.id))" })).sorted()
            throw .notFound("'\(query)' could be more than one \(kind): \(names.joined(separator: ", ")); say which")
        case .notFound(let suggestions):
            let hint = suggestions.isEmpty ? "there are none" : "closest: \(suggestions.joined(separator: ", "))"
            throw .notFound("no \(kind) named '\(query)' (\(hint))")
        }
    }
}
