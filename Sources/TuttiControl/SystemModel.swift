/// The whole system as values: speakers, groups, streams, stereo pairs and party mode.
///
/// Pure: no I/O, no clock. Every change is a ``Command`` applied with
/// ``applying(_:at:newID:)``, which returns the next model and what follows from the change
/// (``Effects``: events for control clients, playback for speakers, rows for the store), so
/// the JSON-RPC API, the CLI and routines cannot disagree about what a command means.
///
/// Invariants, kept by every command and checked by ``violations``:
/// - every speaker is in exactly one group, and every group has at least one speaker;
/// - every group plays a stream that exists;
/// - the two speakers of a stereo pair are in the same group, play left and right, and no
///   speaker is in two pairs;
/// - in party mode the Everywhere group exists;
/// - no two routines answer to the same phrase.
public struct SystemModel: Sendable, Equatable {
    public internal(set) var speakers: [Speaker]
    public internal(set) var groups: [SpeakerGroup]
    public internal(set) var streams: [StreamInfo]
    public internal(set) var pairs: [StereoPair]
    public internal(set) var party: PartyMode?
    public internal(set) var routines: [Routine]

    /// A model with these streams (at least one: the first is the default) and no speakers.
    public init(streams: [StreamInfo]) {
        precondition(!streams.isEmpty, "a server has at least one stream")
        self.speakers = []
        self.groups = []
        self.streams = streams
        self.pairs = []
        self.party = nil
        self.routines = []
    }

    /// The stream new speakers play and groups fall back to: the first configured stream.
    public var defaultStreamID: String { streams[0].id }

    // MARK: Queries

    public func speaker(_ id: String) -> Speaker? { speakers.first { $0.id == id } }
    public func group(_ id: String) -> SpeakerGroup? { groups.first { $0.id == id } }
    public func stream(_ id: String) -> StreamInfo? { streams.first { $0.id == id } }
    public func pair(_ id: String) -> StereoPair? { pairs.first { $0.id == id } }

    /// The group a speaker is in.
    public func group(of speakerID: String) -> SpeakerGroup? { groups.first { $0.speakerIDs.contains(speakerID) } }

    /// The stereo pair a speaker is in.
    public func pair(of speakerID: String) -> StereoPair? { pairs.first { $0.contains(speakerID) } }

    /// What a speaker should play and how, from its own settings and its group's; nil for an
    /// unknown speaker.
    public func playback(of speakerID: String) -> SpeakerPlayback? {
        guard let speaker = speaker(speakerID), let group = group(of: speakerID) else { return nil }
        return SpeakerPlayback(speaker, in: group)
    }

    /// Every speaker's playback, computed in one pass over the groups.
    public var playbackBySpeaker: [String: SpeakerPlayback] {
        let byID = Dictionary(speakers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var result: [String: SpeakerPlayback] = [:]
        for group in groups {
            for id in group.speakerIDs {
                guard let speaker = byID[id] else { continue }
                result[id] = SpeakerPlayback(speaker, in: group)
            }
        }
        return result
    }

    /// Broken invariants, described (empty when the model is consistent). For tests and for
    /// checking a state loaded from the store.
    public var violations: [String] {
        var problems: [String] = []
        var seen: [String: String] = [:]
        for group in groups {
            if group.speakerIDs.isEmpty { problems.append("group \(group.id) is empty") }
            if stream(group.streamID) == nil { problems.append("group \(group.id) plays unknown stream \(group.streamID)") }
            for id in group.speakerIDs {
                if let other = seen[id] { problems.append("speaker \(id) is in groups \(other) and \(group.id)") }
                seen[id] = group.id
                if speaker(id) == nil { problems.append("group \(group.id) lists unknown speaker \(id)") }
            }
        }
        for speaker in speakers where seen[speaker.id] == nil { problems.append("speaker \(speaker.id) is in no group") }
        var paired = Set<String>()
        for pair in pairs {
            for id in pair.members where !paired.insert(id).inserted { problems.append("speaker \(id) is in two pairs") }
            if group(of: pair.left)?.id != group(of: pair.right)?.id { problems.append("pair \(pair.id) is split across groups") }
            if speaker(pair.left)?.channel != .left || speaker(pair.right)?.channel != .right {
                problems.append("pair \(pair.id) does not play left and right")
            }
        }
        if let party, group(party.groupID) == nil { problems.append("party mode without its group") }
        var phrases: [String: String] = [:]
        for routine in routines {
            for phrase in Set(routine.phrases.map(NameMatcher.compact)) {
                if let other = phrases[phrase] { problems.append("routines \(other) and \(routine.id) both answer to '\(phrase)'") }
                phrases[phrase] = routine.id
            }
        }
        var ids = Set<String>()
        for id in speakers.map(\.id) where !ids.insert(id).inserted { problems.append("speaker \(id) exists twice") }
        return problems
    }

    // MARK: Helpers for commands

    func speakerIndex(_ id: String) throws(ControlError) -> Int {
        guard let index = speakers.firstIndex(where: { $0.id == id }) else { throw .unknownSpeaker(id) }
        return index
    }

    func groupIndex(_ id: String) throws(ControlError) -> Int {
        guard let index = groups.firstIndex(where: { $0.id == id }) else { throw .unknownGroup(id) }
        return index
    }

    func requireStream(_ id: String) throws(ControlError) {
        guard stream(id) != nil else { throw .unknownStream(id) }
    }

    /// The speakers with their stereo partners added, each once, in the given order.
    func withPartners(_ ids: [String]) -> [String] {
        var result: [String] = []
        for id in ids {
            for member in pair(of: id)?.members ?? [id] where !result.contains(member) { result.append(member) }
        }
        return result
    }

    /// Takes speakers out of whatever groups they are in; groups left empty disappear.
    /// Whether a speaker plays its group's stream and, if not, why — its host's report first
    /// (the most specific reason), then what the model itself knows.
    public func playState(of speaker: Speaker) -> PlayState { playState(of: speaker, in: group(of: speaker.id)) }

    /// The same for a speaker whose group is known (rendering a group: no search per speaker).
    public func playState(of speaker: Speaker, in group: SpeakerGroup?) -> PlayState {
        if let exclusion = speaker.exclusion { return PlayState(state: .excluded, code: exclusion.code, reason: exclusion.message) }
        guard speaker.connected else { return PlayState(state: .offline, code: "disconnected", reason: "not connected to the server") }
        if group?.muted == true { return PlayState(state: .muted, code: "group-muted", reason: "its group is muted") }
        if speaker.muted { return PlayState(state: .muted, code: "muted", reason: "muted") }
        if let group, let stream = stream(group.streamID), stream.status != .playing {
            return PlayState(state: .silent, code: "stream-idle", reason: "stream \(stream.id) has no audio")
        }
        if speaker.volume == 0 { return PlayState(state: .silent, code: "volume-zero", reason: "volume 0") }
        return PlayState(state: .playing, code: "playing", reason: "plays \(group?.streamID ?? defaultStreamID)")
    }

    mutating func detach(_ ids: [String]) {
        for index in groups.indices { groups[index].speakerIDs.removeAll { ids.contains($0) } }
        groups.removeAll { $0.speakerIDs.isEmpty }
    }

    /// Moves a speaker into the group of `other` (a stereo partner joining its other half);
    /// the group it leaves disappears if empty, and party mode ends if that was its group.
    mutating func move(_ id: String, intoGroupOf other: String) {
        guard let target = group(of: other), group(of: id)?.id != target.id else { return }
        detach([id])
        if let index = groups.firstIndex(where: { $0.id == target.id }) { groups[index].speakerIDs.append(id) }
        endPartyIfItsGroupIsGone()
    }

    /// Party mode ends when its group is gone (broken up by hand: nothing left to restore into).
    mutating func endPartyIfItsGroupIsGone() {
        if let party, group(party.groupID) == nil { self.party = nil }
    }

    /// Splits speakers into units that move together: a stereo pair, or a speaker alone.
    func units(_ ids: [String]) -> [[String]] {
        var units: [[String]] = []
        var placed = Set<String>()
        for id in ids where !placed.contains(id) {
            var unit = [id]
            if let partner = pair(of: id)?.partner(of: id), ids.contains(partner) { unit.append(partner) }
            unit.forEach { placed.insert($0) }
            units.append(unit)
        }
        return units
    }
}

/// What a speaker plays and how: everything its session needs to tell it.
public struct SpeakerPlayback: Sendable, Equatable {
    public var streamID: String
    public var volume: Int
    /// The speaker's own mute or its group's.
    public var muted: Bool
    public var latencyMicroseconds: Int
    public var channel: AudioChannel
    /// The speaker's level trim, dB.
    public var trimDB: Double

    public init(streamID: String, volume: Int, muted: Bool, latencyMicroseconds: Int, channel: AudioChannel, trimDB: Double = 0) {
        self.streamID = streamID
        self.volume = volume
        self.muted = muted
        self.latencyMicroseconds = latencyMicroseconds
        self.channel = channel
        self.trimDB = trimDB
    }

    /// A speaker's playback in its group: the group's stream, either one's mute.
    init(_ speaker: Speaker, in group: SpeakerGroup) {
        self.init(
            streamID: group.streamID, volume: speaker.volume, muted: speaker.muted || group.muted, latencyMicroseconds: speaker.latencyMicroseconds,
            channel: speaker.channel, trimDB: speaker.trimDB)
    }
}
