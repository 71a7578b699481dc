/// The control API's methods: Snapcast 0.26's, and Tutti's own in the same style. Each method
/// reads its parameters and says what to do — answer from the model, or apply a command and
/// answer from the model that results — so every transport (TCP, HTTP, WebSocket) and the
/// CLI get the same behaviour. Pure: the caller applies, stores and sends.
public struct ControlAPI: Sendable {
    /// What a request asks the server to do.
    public enum Plan: Sendable {
        /// Answer with this result; nothing changes.
        case answer(JSON)
        /// Apply the command; the result is rendered from the model after it.
        case apply(Command, render: @Sendable (SystemModel, CommandResult) -> JSON)
        /// Stream.AddStream: the server checks the URI and opens the source before the stream
        /// becomes a command; the result is `{"id": name}`.
        case addStream(uri: String)
        /// Server.Authenticate: the transport checks the token.
        case authenticate(token: String)
        /// Server.Subscribe: this client does (or no longer does) want Tutti's frequent
        /// notifications (each speaker's sync status, about once a second).
        case subscribe(sync: Bool)
        /// Command.Run and Routine.Run: run these actions in order (``RoutineRunner``) — the
        /// actions of `routine`, if one is named — or with `dryRun` only say what they would do.
        case run([RoutineAction], label: String, routine: String?, dryRun: Bool)
        /// Bluetooth.*: ask the speaker host(s) with Bluetooth (`host`: a speaker's ID or name,
        /// nil for whichever has it) — the server relays the request over the speaker connection.
        case relay(method: String, params: JSON, host: String?)
        /// Client.GetCapabilities (`speakers` is that one) and Server.GetCapabilities (all known
        /// speakers): each connected speaker's host is asked what it can do (`Host.GetCapabilities`).
        case capabilities(speakers: [String], single: Bool)
        /// Calibration.*: a run of test bursts, the microphone's recording, its results.
        case calibration(method: String, params: JSON)
    }

    public var identity: ServerIdentity

    public init(identity: ServerIdentity = ServerIdentity()) {
        self.identity = identity
    }

    /// The methods this API answers, for documentation and "did you mean".
    public static let methods: [String] = [
        "Client.GetStatus", "Client.SetVolume", "Client.SetLatency", "Client.SetName", "Client.SetChannel", "Client.SetTrim", "Client.GetCapabilities",
        "Group.GetStatus", "Group.SetMute", "Group.SetStream", "Group.SetClients", "Group.SetName", "Group.SetVolume",
        "Group.Create", "Group.Dissolve",
        "Server.GetRPCVersion", "Server.GetStatus", "Server.DeleteClient", "Server.Authenticate", "Server.Subscribe", "Server.SetPartyMode",
        "Server.GetCapabilities",
        "Stream.AddStream", "Stream.RemoveStream", "Stream.Control", "Stream.SetProperty",
        "Pair.Create", "Pair.Delete",
        "Routine.List", "Routine.Create", "Routine.Update", "Routine.Delete", "Routine.Run", "Command.Run",
        "Bluetooth.GetStatus", "Bluetooth.Scan", "Bluetooth.Pair", "Bluetooth.Connect", "Bluetooth.Disconnect",
        "Bluetooth.Forget", "Bluetooth.ForgetAll", "Bluetooth.SetReceive",
        "Calibration.Start", "Calibration.GetStatus", "Calibration.Deliver", "Calibration.Analyze", "Calibration.Apply",
    ]

    /// Reads a request's parameters and decides what to do. Throws the error object to answer
    /// with (unknown method, invalid parameters, unknown IDs for reads).
    public func plan(_ request: JSONRPC.Request, model: SystemModel) throws(RPCError) -> Plan {
        let params = try RPCParams(request.params)
        let identity = self.identity
        switch request.method {
        case "Server.GetRPCVersion":
            return .answer(["major": 2, "minor": 0, "patch": 0])
        case "Server.GetStatus":
            return .answer(["server": SnapcastJSON.server(model, identity: identity)])
        case "Server.DeleteClient":
            return .apply(.deleteSpeaker(try params.string("id"))) { model, _ in ["server": SnapcastJSON.server(model, identity: identity)] }
        case "Server.Authenticate":
            return .authenticate(token: try params.string("token"))
        case "Server.Subscribe":
            return .subscribe(sync: try params.bool("sync"))
        case "Server.SetPartyMode":
            return .apply(.setPartyMode(on: try params.bool("on"), stream: try params.optionalString("stream_id"))) { model, _ in
                ["party": model.party.map { ["on": true, "group_id": .string($0.groupID)] } ?? ["on": false]]
            }

        case "Server.GetCapabilities":
            return .capabilities(speakers: model.speakers.map(\.id), single: false)
        case "Client.GetCapabilities":
            let id = try params.string("id")
            guard model.speaker(id) != nil else { throw RPCError(.unknownSpeaker(id)) }
            return .capabilities(speakers: [id], single: true)
        case "Client.GetStatus":
            let id = try params.string("id")
            guard let speaker = model.speaker(id) else { throw RPCError(.unknownSpeaker(id)) }
            return .answer(["client": SnapcastJSON.client(speaker, in: model)])
        case "Client.SetVolume":
            let id = try params.string("id")
            let volume = try params.object("volume")
            let percent = try volume.optionalInt("percent")
            let muted = try volume.optionalBool("muted")
            guard percent != nil || muted != nil else { throw .invalidParams("'volume' needs 'percent' and/or 'muted'") }
            return .apply(.setVolume(speaker: id, percent: percent, muted: muted)) { model, _ in
                ["volume": model.speaker(id).map(SnapcastJSON.volume) ?? .null]
            }
        case "Client.SetLatency":
            // Whole ms in Snapcast; Tutti takes fractions too (to the µs).
            let milliseconds = try params.double("latency")
            guard abs(milliseconds) <= Double(SystemModel.latencyRange.upperBound) else {
                throw .invalidParams("'latency' \(milliseconds) ms is outside ±\(SystemModel.latencyRange.upperBound)")
            }
            let id = try params.string("id")
            return .apply(.setLatency(speaker: id, microseconds: Int((milliseconds * 1000).rounded()))) { model, _ in
                ["latency": SnapcastJSON.latency(model.speaker(id)?.latencyMicroseconds ?? 0)]
            }
        case "Client.SetName":
            let name = try params.string("name")
            return .apply(.setName(speaker: try params.string("id"), name: name)) { _, _ in ["name": .string(name)] }
        case "Client.SetChannel":
            let text = try params.string("channel")
            guard let channel = AudioChannel(rawValue: text.lowercased()) else {
                throw .invalidParams("'channel' must be one of \(AudioChannel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .apply(.setChannel(speaker: try params.string("id"), channel)) { _, _ in ["channel": .string(channel.rawValue)] }
        case "Client.SetTrim":
            let id = try params.string("id")
            return .apply(.setTrim(speaker: id, decibels: try params.double("trimDb"))) { model, _ in
                ["trimDb": .double(model.speaker(id)?.trimDB ?? 0)]
            }

        case "Group.GetStatus":
            let id = try params.string("id")
            guard let group = model.group(id) else { throw RPCError(.unknownGroup(id)) }
            return .answer(["group": SnapcastJSON.group(group, in: model)])
        case "Group.SetMute":
            let muted = try params.bool("mute")
            return .apply(.setGroupMute(group: try params.string("id"), muted: muted)) { _, _ in ["mute": .bool(muted)] }
        case "Group.SetStream":
            let stream = try params.string("stream_id")
            return .apply(.setGroupStream(group: try params.string("id"), stream: stream)) { _, _ in ["stream_id": .string(stream)] }
        case "Group.SetName":
            let name = try params.string("name")
            return .apply(.setGroupName(group: try params.string("id"), name: name)) { _, _ in ["name": .string(name)] }
        case "Group.SetClients":
            return .apply(.setGroupClients(group: try params.string("id"), speakers: try params.strings("clients"))) { model, _ in
                ["server": SnapcastJSON.server(model, identity: identity)]
            }
        case "Group.SetVolume":
            let id = try params.string("id")
            return .apply(.setGroupVolume(group: id, percent: try params.int("percent"))) { model, _ in
                ["group": model.group(id).map { SnapcastJSON.group($0, in: model) } ?? .null]
            }
        case "Group.Create":
            let command = Command.createGroup(
                name: try params.optionalString("name") ?? "", speakers: try params.strings("clients"), stream: try params.optionalString("stream_id"))
            return .apply(command) { model, result in
                guard case .createdGroup(let id) = result, let group = model.group(id) else { return .null }
                return ["group": SnapcastJSON.group(group, in: model)]
            }
        case "Group.Dissolve":
            return .apply(.dissolveGroup(try params.string("id"))) { model, _ in ["server": SnapcastJSON.server(model, identity: identity)] }

        case "Stream.AddStream":
            return .addStream(uri: try params.string("streamUri"))
        case "Stream.RemoveStream":
            let id = try params.string("id")
            return .apply(.removeStream(id)) { _, _ in ["id": .string(id)] }
        case "Stream.Control", "Stream.SetProperty":
            let id = try params.string("id")
            guard model.stream(id) != nil else { throw RPCError(.unknownStream(id)) }
            throw .notSupported("stream '\(id)' cannot be controlled: Tutti's sources have no player to command")

        case "Pair.Create":
            let command = Command.createPair(left: try params.string("left"), right: try params.string("right"), name: try params.optionalString("name"))
            return .apply(command) { model, result in
                guard case .createdPair(let id) = result, let pair = model.pair(id) else { return .null }
                return ["pair": SnapcastJSON.pair(pair)]
            }
        case "Pair.Delete":
            let id = try params.string("id")
            return .apply(.deletePair(id)) { _, _ in ["id": .string(id)] }

        case let method where method.hasPrefix("Calibration.") && Self.methods.contains(method):
            return .calibration(method: method, params: request.params)
        case let method where method.hasPrefix("Bluetooth.") && Self.methods.contains(method):
            var forwarded = request.params.objectValue ?? [:]
            let host = try params.optionalString("host")
            forwarded["host"] = nil
            return .relay(method: method, params: .object(forwarded), host: host)
        case "Routine.List":
            return .answer(["routines": .array(model.routines.map(\.json))])
        case "Routine.Create":
            let routine = try Routine(id: "", params: params, base: nil, model: model)
            return .apply(.putRoutine(routine)) { model, result in
                guard case .savedRoutine(let id) = result, let routine = model.routine(id) else { return .null }
                return ["routine": routine.json]
            }
        case "Routine.Update":
            let base = try Self.routine(try params.string("id"), in: model)
            let routine = try Routine(id: base.id, params: params, base: base, model: model)
            return .apply(.putRoutine(routine)) { model, _ in ["routine": model.routine(base.id)?.json ?? .null] }
        case "Routine.Delete":
            let routine = try Self.routine(try params.string("id"), in: model)
            return .apply(.deleteRoutine(routine.id)) { _, _ in ["id": .string(routine.id)] }
        case "Routine.Run":
            let routine = try Self.routine(try params.string("id"), in: model)
            return .run(routine.actions, label: "routine '\(routine.name)'", routine: routine.name, dryRun: try params.optionalBool("dryRun") ?? false)
        case "Command.Run":
            let text = try params.string("text")
            let dryRun = try params.optionalBool("dryRun") ?? false
            do throws(PhraseError) {
                return .run(try PhraseParser.parse(text, in: model), label: "'\(text)'", routine: nil, dryRun: dryRun)
            } catch {
                throw error.rpcError
            }

        default:
            throw .methodNotFound(request.method)
        }
    }

    /// A routine by ID or by one of its phrases (whole, ignoring case and spaces: a near miss
    /// must not update, delete or run another routine), or the error to answer.
    static func routine(_ idOrName: String, in model: SystemModel) throws(RPCError) -> Routine {
        if let routine = model.routine(idOrName) { return routine }
        do {
            return try Targets(model).routine(idOrName, loosely: false)
        } catch {
            throw RPCError(error)
        }
    }

    /// The notifications that tell control clients about a change, rendered from the model
    /// after it. Sync reports are only for clients that asked for them (Server.Subscribe).
    ///
    /// Server.OnUpdate, when the structure changed, comes first: Snapcast's Python client (Home
    /// Assistant's) drops its connection on a notification naming a client or group it does not
    /// know yet, and breaks on a client that is in no group.
    public func notifications(for events: [ControlEvent], in model: SystemModel) -> [Notification] {
        var notes: [Notification] = []
        let ordered = events.filter { $0 == .structureChanged } + events.filter { $0 != .structureChanged }
        for event in ordered {
            switch event {
            case .speakerConnected(let id), .speakerDisconnected(let id):
                guard let speaker = model.speaker(id) else { continue }
                let method = speaker.connected ? "Client.OnConnect" : "Client.OnDisconnect"
                notes.append(Notification(method: method, params: ["id": .string(id), "client": SnapcastJSON.client(speaker, in: model)]))
            case .speakerVolumeChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(method: "Client.OnVolumeChanged", params: ["id": .string(id), "volume": SnapcastJSON.volume(speaker)]))
            case .speakerLatencyChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(method: "Client.OnLatencyChanged", params: ["id": .string(id), "latency": SnapcastJSON.latency(speaker.latencyMicroseconds)]))
            case .speakerNameChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(method: "Client.OnNameChanged", params: ["id": .string(id), "name": .string(speaker.name)]))
            case .speakerChannelChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(method: "Client.OnChannelChanged", params: ["id": .string(id), "channel": .string(speaker.channel.rawValue)], audience: .tutti))
            case .speakerTrimChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(method: "Client.OnTrimChanged", params: ["id": .string(id), "trimDb": .double(speaker.trimDB)], audience: .tutti))
            case .speakerSyncChanged(let id):
                guard let sync = model.speaker(id)?.sync else { continue }
                notes.append(Notification(method: "Client.OnSyncStatus", params: ["id": .string(id), "sync": SnapcastJSON.sync(sync)], audience: .syncSubscribers))
            case .speakerExclusionChanged(let id):
                guard let speaker = model.speaker(id) else { continue }
                notes.append(Notification(
                    method: "Client.OnPlayingChanged", params: ["id": .string(id), "playing": SnapcastJSON.playing(speaker, in: model)], audience: .tutti))
            case .groupMuteChanged(let id):
                guard let group = model.group(id) else { continue }
                notes.append(Notification(method: "Group.OnMute", params: ["id": .string(id), "mute": .bool(group.muted)]))
            case .groupStreamChanged(let id):
                guard let group = model.group(id) else { continue }
                notes.append(Notification(method: "Group.OnStreamChanged", params: ["id": .string(id), "stream_id": .string(group.streamID)]))
            case .groupNameChanged(let id):
                guard let group = model.group(id) else { continue }
                notes.append(Notification(method: "Group.OnNameChanged", params: ["id": .string(id), "name": .string(group.name)]))
            case .streamUpdated(let id):
                guard let stream = model.stream(id) else { continue }
                notes.append(Notification(method: "Stream.OnUpdate", params: ["id": .string(id), "stream": SnapcastJSON.stream(stream)]))
            case .routinesChanged:
                notes.append(Notification(method: "Routine.OnUpdate", params: ["routines": .array(model.routines.map(\.json))], audience: .tutti))
            case .structureChanged:
                notes.append(Notification(method: "Server.OnUpdate", params: ["server": SnapcastJSON.server(model, identity: identity)]))
            }
        }
        return notes
    }

    /// A notification and who should get it.
    public struct Notification: Sendable, Equatable {
        public enum Audience: Sendable, Equatable {
            /// Every control client (Snapcast's notifications).
            case everyone
            /// Every control client too; Tutti's own method, which Snapcast's clients ignore.
            case tutti
            /// Only clients that asked for sync reports (they come about once a second per speaker).
            case syncSubscribers
        }

        public var method: String
        public var params: JSON
        public var audience: Audience

        public init(method: String, params: JSON, audience: Audience = .everyone) {
            self.method = method
            self.params = params
            self.audience = audience
        }

        public var json: JSON { JSONRPC.notification(method: method, params: params) }
    }
}
