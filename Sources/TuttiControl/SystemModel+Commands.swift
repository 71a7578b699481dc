extension SystemModel {
    /// Latency a user may set, ms (±10 s): negative plays later, positive earlier.
    public static let latencyRange = -10_000...10_000
    /// The same in µs.
    public static let latencyRangeMicroseconds = latencyRange.lowerBound * 1000...latencyRange.upperBound * 1000
    /// Level trims, dB: they only ever turn a speaker down (a boost could clip).
    public static let trimRange = -40.0...0.0

    /// Applies a command to a copy of the model.
    ///
    /// - Parameters:
    ///   - now: the wall-clock time of the change (a speaker's `lastSeen`).
    ///   - newID: makes IDs for new groups and pairs (UUIDs on a server, counters in tests).
    /// - Returns: the next model and the outcome; `self` is unchanged, so the caller can store
    ///   the change first and adopt the next model only once it is stored.
    /// - Throws: ``ControlError`` when the command is refused; nothing changes then.
    public func applying(
        _ command: Command, at now: WallTime, newID: () -> String
    ) throws(ControlError) -> (model: SystemModel, outcome: Outcome) {
        var next = self
        let result = try next.perform(command, now: now, newID: newID)
        let effects = Effects(from: self, to: next, command: command)
        return (next, Outcome(result: result, effects: effects))
    }

    private mutating func perform(_ command: Command, now: WallTime, newID: () -> String) throws(ControlError) -> CommandResult {
        switch command {
        case .speakerConnected(let hello):
            speakerConnected(hello, now: now, newID: newID)
        case .speakerDisconnected(let id):
            let index = try speakerIndex(id)
            speakers[index].connected = false
            speakers[index].lastSeen = now
            speakers[index].sync = nil
        case .speakerReported(let id, let volume, let muted):
            try setVolume(id, percent: max(0, min(100, volume)), muted: muted)
        case .speakerSyncStatus(let id, let status):
            speakers[try speakerIndex(id)].sync = status
        case .hostReportedExclusions(let host, let excluded):
            reportExclusions(host: host, excluded, newID: newID)
        case .setVolume(let id, let percent, let muted):
            if let percent, !(0...100).contains(percent) { throw .invalidValue("volume \(percent) is outside 0...100") }
            try setVolume(id, percent: percent, muted: muted)
        case .setLatency(let id, let microseconds):
            guard Self.latencyRangeMicroseconds.contains(microseconds) else {
                throw .invalidValue("latency \(Double(microseconds) / 1000) ms is outside \(Self.latencyRange.lowerBound)...\(Self.latencyRange.upperBound)")
            }
            speakers[try speakerIndex(id)].latencyMicroseconds = microseconds
        case .setTrim(let id, let decibels):
            guard Self.trimRange.contains(decibels) else {
                throw .invalidValue("trim \(decibels) dB is outside \(Int(Self.trimRange.lowerBound))...\(Int(Self.trimRange.upperBound))")
            }
            // To a hundredth of a dB: what anyone can hear, and what is stored and shown.
            speakers[try speakerIndex(id)].trimDB = (decibels * 100).rounded() / 100
        case .setName(let id, let name):
            speakers[try speakerIndex(id)].name = name
        case .setChannel(let id, let channel):
            let index = try speakerIndex(id)
            if let pair = pair(of: id) {
                throw .conflict("speaker '\(id)' plays \(speakers[index].channel.rawValue) in stereo pair '\(pair.name)'; delete the pair to change its channel")
            }
            speakers[index].channel = channel
        case .deleteSpeaker(let id):
            try deleteSpeaker(id)
        case .setGroupMute(let id, let muted):
            groups[try groupIndex(id)].muted = muted
        case .setGroupStream(let id, let stream):
            let index = try groupIndex(id)
            try requireStream(stream)
            groups[index].streamID = stream
        case .setGroupName(let id, let name):
            groups[try groupIndex(id)].name = name
        case .setGroupClients(let id, let members):
            try setGroupClients(id, members, newID: newID)
        case .setGroupVolume(let id, let percent):
            try setGroupVolume(id, percent: percent)
        case .createGroup(let name, let members, let stream):
            return .createdGroup(try createGroup(name: name, members: members, stream: stream, newID: newID))
        case .dissolveGroup(let id):
            try dissolveGroup(id, newID: newID)
        case .addStream(let stream):
            try addStream(stream)
            return .createdStream(stream.id)
        case .removeStream(let id):
            try removeStream(id)
        case .setStreamStatus(let id, let status):
            guard let index = streams.firstIndex(where: { $0.id == id }) else { throw .unknownStream(id) }
            streams[index].status = status
        case .setPartyMode(let on, let stream):
            if on { try partyOn(stream: stream, newID: newID) } else { partyOff(newID: newID) }
        case .createPair(let left, let right, let name):
            return .createdPair(try createPair(left: left, right: right, name: name, newID: newID))
        case .deletePair(let id):
            try deletePair(id)
        case .putRoutine(var routine):
            if routine.id.isEmpty { routine.id = newID() }
            try putRoutine(routine)
            return .savedRoutine(routine.id)
        case .deleteRoutine(let id):
            guard routines.contains(where: { $0.id == id }) else { throw .unresolved(NameProblem(name: id, kind: "routine")) }
            routines.removeAll { $0.id == id }
        }
        return .done
    }

    // MARK: Speakers

    private mutating func speakerConnected(_ hello: SpeakerHello, now: WallTime, newID: () -> String) {
        if let index = speakers.firstIndex(where: { $0.id == hello.id }) {
            speakers[index].host = hello.host
            speakers[index].software = hello.software
            speakers[index].instance = hello.instance
            speakers[index].capabilities = hello.capabilities
            speakers[index].connected = true
            speakers[index].lastSeen = now
            return
        }
        speakers.append(Speaker(
            id: hello.id, host: hello.host, software: hello.software, instance: hello.instance, connected: true,
            lastSeen: now, capabilities: hello.capabilities))
        if let party, let index = groups.firstIndex(where: { $0.id == party.groupID }) {
            groups[index].speakerIDs.append(hello.id)
        } else {
            groups.append(SpeakerGroup(id: newID(), streamID: defaultStreamID, speakerIDs: [hello.id]))
        }
    }

    private mutating func reportExclusions(host: String, _ excluded: [ExcludedSpeaker], newID: () -> String) {
        for index in speakers.indices where speakers[index].exclusion?.host == host && !excluded.contains(where: { $0.id == speakers[index].id }) {
            speakers[index].exclusion = nil
        }
        for item in excluded where !item.id.isEmpty {
            let exclusion = Exclusion(code: item.code, message: item.message, host: host)
            if let index = speakers.firstIndex(where: { $0.id == item.id }) {
                speakers[index].exclusion = exclusion
            } else {
                speakers.append(Speaker(id: item.id, host: HostInfo(name: item.name), software: SoftwareInfo(name: "Bluetooth"), exclusion: exclusion))
                groups.append(SpeakerGroup(id: newID(), streamID: defaultStreamID, speakerIDs: [item.id]))
            }
        }
    }

    /// Sets volume and/or mute on a speaker and on its stereo partner.
    private mutating func setVolume(_ id: String, percent: Int?, muted: Bool?) throws(ControlError) {
        _ = try speakerIndex(id)
        for member in withPartners([id]) {
            guard let index = speakers.firstIndex(where: { $0.id == member }) else { continue }
            if let percent { speakers[index].volume = percent }
            if let muted { speakers[index].muted = muted }
        }
    }

    private mutating func deleteSpeaker(_ id: String) throws(ControlError) {
        let index = try speakerIndex(id)
        guard !speakers[index].connected else {
            throw .conflict("speaker '\(id)' is connected; stop it before deleting it (it would come back at once)")
        }
        if let pair = pair(of: id) { try deletePair(pair.id) }
        speakers.remove(at: index)
        detach([id])
        if var saved = party?.savedGroups {
            for i in saved.indices { saved[i].speakerIDs.removeAll { $0 == id } }
            party?.savedGroups = saved.filter { !$0.speakerIDs.isEmpty }
        }
        endPartyIfItsGroupIsGone()
    }

    // MARK: Groups

    private mutating func setGroupClients(_ id: String, _ requested: [String], newID: () -> String) throws(ControlError) {
        let index = try groupIndex(id)
        for member in requested { _ = try speakerIndex(member) }
        let group = groups[index]
        // A stereo pair moves as one: it stays only if both are listed, and joins if either is.
        var wanted = requested
        for pair in pairs {
            let isMember = group.speakerIDs.contains(pair.left)
            let listed = pair.members.filter { requested.contains($0) }
            if isMember, listed.count < 2 { wanted.removeAll { pair.contains($0) } }
            if !isMember, !listed.isEmpty { wanted = withPartners(wanted) }
        }
        let leaving = group.speakerIDs.filter { !wanted.contains($0) }
        let joining = wanted.filter { !group.speakerIDs.contains($0) }
        // Joiners leave their groups first, while this one still has its members (and so is not
        // dropped as empty when every old member leaves and only newcomers remain).
        detach(joining)
        if let target = groups.firstIndex(where: { $0.id == group.id }) {
            groups[target].speakerIDs = group.speakerIDs.filter { wanted.contains($0) } + joining
        }
        // Speakers that leave get a group each (pairs together), playing what they played.
        for unit in units(leaving) {
            groups.append(SpeakerGroup(id: newID(), streamID: group.streamID, speakerIDs: unit))
        }
        groups.removeAll { $0.speakerIDs.isEmpty }
        endPartyIfItsGroupIsGone()
    }

    private mutating func setGroupVolume(_ id: String, percent: Int) throws(ControlError) {
        let index = try groupIndex(id)
        guard (0...100).contains(percent) else { throw .invalidValue("volume \(percent) is outside 0...100") }
        let members = groups[index].speakerIDs
        let volumes = members.compactMap { speaker($0)?.volume }
        for (member, volume) in zip(members, GroupVolume.scaled(volumes, toMean: percent)) {
            if let i = speakers.firstIndex(where: { $0.id == member }) { speakers[i].volume = volume }
        }
    }

    private mutating func createGroup(name: String, members requested: [String], stream: String?, newID: () -> String) throws(ControlError) -> String {
        guard !requested.isEmpty else { throw .invalidValue("a group needs at least one speaker") }
        for member in requested { _ = try speakerIndex(member) }
        if let stream { try requireStream(stream) }
        let members = withPartners(requested)
        let streamID = stream ?? group(of: members[0])?.streamID ?? defaultStreamID
        detach(members)
        let id = newID()
        groups.append(SpeakerGroup(id: id, name: name, streamID: streamID, speakerIDs: members))
        endPartyIfItsGroupIsGone()
        return id
    }

    private mutating func dissolveGroup(_ id: String, newID: () -> String) throws(ControlError) {
        let index = try groupIndex(id)
        let group = groups[index]
        let units = units(group.speakerIDs)
        groups[index].speakerIDs = units[0]
        for unit in units.dropFirst() {
            groups.append(SpeakerGroup(id: newID(), streamID: group.streamID, speakerIDs: unit))
        }
    }

    // MARK: Streams

    private mutating func addStream(_ stream: StreamInfo) throws(ControlError) {
        guard self.stream(stream.id) == nil else { throw .conflict("a stream named '\(stream.id)' exists") }
        guard !stream.id.isEmpty else { throw .invalidValue("a stream needs a name") }
        streams.append(stream)
    }

    private mutating func removeStream(_ id: String) throws(ControlError) {
        guard let stream = stream(id) else { throw .unknownStream(id) }
        guard stream.origin == .api else {
            throw .conflict("stream '\(id)' comes from the server's configuration; remove it there")
        }
        streams.removeAll { $0.id == id }
        let fallback = defaultStreamID
        for index in groups.indices where groups[index].streamID == id { groups[index].streamID = fallback }
        if var saved = party?.savedGroups {
            for index in saved.indices where saved[index].streamID == id { saved[index].streamID = fallback }
            party?.savedGroups = saved
        }
    }
}

/// What a command produced: its result and what follows from it.
public struct Outcome: Sendable, Equatable {
    public var result: CommandResult
    public var effects: Effects
}
