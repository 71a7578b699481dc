/// What follows from a command, found by comparing the model before and after it — so every
/// command, including ones that move many things at once (party mode, pairs), reports every
/// consequence and nothing else.
public struct Effects: Sendable, Equatable {
    /// What control clients are told, in a stable order.
    public var events: [ControlEvent]
    /// Connected speakers whose playback changed — stream, volume, mute, latency or channel —
    /// with what they should now do. A speaker that just connected is always here.
    public var playback: [String: SpeakerPlayback]
    /// The rows to write so the store matches the new model.
    public var store: [StoreChange]

    public init(events: [ControlEvent] = [], playback: [String: SpeakerPlayback] = [:], store: [StoreChange] = []) {
        self.events = events
        self.playback = playback
        self.store = store
    }

    init(from old: SystemModel, to new: SystemModel, command: Command) {
        // A sync report (about once a second from every speaker) changes one live field:
        // nothing to store, nothing to play differently.
        if case .speakerSyncStatus(let id, _) = command {
            self.init(events: old.speaker(id)?.sync == new.speaker(id)?.sync ? [] : [.speakerSyncChanged(id)])
            return
        }
        self.init(events: ControlEvent.changes(from: old, to: new), store: StoreChange.changes(from: old.persistent, to: new.persistent))
        let before = old.playbackBySpeaker
        let wasConnected = Set(old.speakers.filter(\.connected).map(\.id))
        let isConnected = Set(new.speakers.filter(\.connected).map(\.id))
        for (id, now) in new.playbackBySpeaker where isConnected.contains(id) {
            if !wasConnected.contains(id) || before[id] != now { playback[id] = now }
        }
        if case .speakerConnected(let hello) = command, let now = new.playback(of: hello.id) {
            playback[hello.id] = now  // also a second connection of a connected speaker
        }
    }
}

/// A change control clients hear about. Events name what changed; the JSON-RPC layer renders
/// each from the new model (Snapcast's notifications, and Tutti's own).
public enum ControlEvent: Sendable, Equatable, Hashable {
    case speakerConnected(String)
    case speakerDisconnected(String)
    case speakerVolumeChanged(String)
    case speakerLatencyChanged(String)
    case speakerNameChanged(String)
    case speakerChannelChanged(String)
    case speakerTrimChanged(String)
    case speakerSyncChanged(String)
    /// Its host reported it left out of playing, or no longer.
    case speakerExclusionChanged(String)
    case groupMuteChanged(String)
    case groupStreamChanged(String)
    case groupNameChanged(String)
    case streamUpdated(String)
    /// Routines were created, changed or deleted.
    case routinesChanged
    /// Speakers, groups, membership, streams, pairs or party mode came or went: the whole
    /// picture is sent again (Snapcast's Server.OnUpdate).
    case structureChanged

    static func changes(from old: SystemModel, to new: SystemModel) -> [ControlEvent] {
        var events: [ControlEvent] = []
        let oldSpeakers = Dictionary(old.speakers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let oldGroups = Dictionary(old.groups.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for speaker in new.speakers {
            let before = oldSpeakers[speaker.id]
            if speaker.connected, before?.connected != true { events.append(.speakerConnected(speaker.id)) }
            if !speaker.connected, before?.connected == true { events.append(.speakerDisconnected(speaker.id)) }
            guard let before else { continue }
            if before.volume != speaker.volume || before.muted != speaker.muted { events.append(.speakerVolumeChanged(speaker.id)) }
            if before.latencyMicroseconds != speaker.latencyMicroseconds { events.append(.speakerLatencyChanged(speaker.id)) }
            if before.name != speaker.name { events.append(.speakerNameChanged(speaker.id)) }
            if before.channel != speaker.channel { events.append(.speakerChannelChanged(speaker.id)) }
            if before.trimDB != speaker.trimDB { events.append(.speakerTrimChanged(speaker.id)) }
            if before.sync != speaker.sync, speaker.sync != nil { events.append(.speakerSyncChanged(speaker.id)) }
            if before.exclusion != speaker.exclusion { events.append(.speakerExclusionChanged(speaker.id)) }
        }
        for group in new.groups {
            guard let before = oldGroups[group.id] else { continue }
            if before.muted != group.muted { events.append(.groupMuteChanged(group.id)) }
            if before.streamID != group.streamID { events.append(.groupStreamChanged(group.id)) }
            if before.name != group.name { events.append(.groupNameChanged(group.id)) }
        }
        for stream in new.streams {
            if let before = old.stream(stream.id), before != stream { events.append(.streamUpdated(stream.id)) }
        }
        let shape = { (model: SystemModel) in
            (model.speakers.map(\.id), model.groups.map { [$0.id] + $0.speakerIDs }, model.streams.map(\.id), model.pairs, model.party)
        }
        if shape(old) != shape(new) { events.append(.structureChanged) }
        if old.routines != new.routines { events.append(.routinesChanged) }
        return events
    }
}
