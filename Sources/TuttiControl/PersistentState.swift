/// The part of the model that is stored: everything a user set or a speaker told about itself,
/// none of what is live (connections, sync reports, stream status, configured streams).
public struct PersistentState: Sendable, Equatable {
    /// Speakers as stored: never connected, no sync report.
    public var speakers: [Speaker]
    /// Groups in order.
    public var groups: [SpeakerGroup]
    public var pairs: [StereoPair]
    /// Streams added through the API (configured streams come from the configuration).
    public var streams: [StreamInfo]
    public var party: PartyMode?
    public var routines: [Routine]

    public init(
        speakers: [Speaker] = [], groups: [SpeakerGroup] = [], pairs: [StereoPair] = [], streams: [StreamInfo] = [], party: PartyMode? = nil,
        routines: [Routine] = []
    ) {
        self.speakers = speakers
        self.groups = groups
        self.pairs = pairs
        self.streams = streams
        self.party = party
        self.routines = routines
    }

    /// Nothing stored yet (a first start).
    public var isEmpty: Bool { speakers.isEmpty && groups.isEmpty && pairs.isEmpty && streams.isEmpty && party == nil && routines.isEmpty }

    /// Applies changes as a store would (for in-memory stores and tests).
    public mutating func apply(_ changes: [StoreChange]) {
        for change in changes {
            switch change {
            case .putSpeaker(let speaker, let position): Self.put(speaker, at: position, into: &speakers)
            case .deleteSpeaker(let id): speakers.removeAll { $0.id == id }
            case .putGroup(let group, let position): Self.put(group, at: position, into: &groups)
            case .deleteGroup(let id): groups.removeAll { $0.id == id }
            case .putPair(let pair): Self.put(pair, at: pairs.firstIndex { $0.id == pair.id } ?? pairs.count, into: &pairs)
            case .deletePair(let id): pairs.removeAll { $0.id == id }
            case .putStream(let stream): Self.put(stream, at: streams.firstIndex { $0.id == stream.id } ?? streams.count, into: &streams)
            case .deleteStream(let id): streams.removeAll { $0.id == id }
            case .setParty(let party): self.party = party
            case .putRoutine(let routine, let position): Self.put(routine, at: position, into: &routines)
            case .deleteRoutine(let id): routines.removeAll { $0.id == id }
            }
        }
    }

    private static func put<T: Identified>(_ value: T, at position: Int, into array: inout [T]) {
        array.removeAll { $0.id == value.id }
        array.insert(value, at: min(position, array.count))
    }
}

protocol Identified { var id: String { get } }
extension Speaker: Identified {}
extension SpeakerGroup: Identified {}
extension StereoPair: Identified {}
extension StreamInfo: Identified {}
extension Routine: Identified {}

/// One row to write or delete so that the store matches the model. Positions keep the order
/// of speakers and groups.
public enum StoreChange: Sendable, Equatable {
    case putSpeaker(Speaker, position: Int)
    case deleteSpeaker(String)
    case putGroup(SpeakerGroup, position: Int)
    case deleteGroup(String)
    case putPair(StereoPair)
    case deletePair(String)
    case putStream(StreamInfo)
    case deleteStream(String)
    case setParty(PartyMode?)
    case putRoutine(Routine, position: Int)
    case deleteRoutine(String)

    /// The rows that differ between two stored states, deletions first.
    public static func changes(from old: PersistentState, to new: PersistentState) -> [StoreChange] {
        var changes: [StoreChange] = []
        let newSpeakers = Set(new.speakers.map(\.id))
        let newGroups = Set(new.groups.map(\.id))
        let newPairs = Set(new.pairs.map(\.id))
        let newStreams = Set(new.streams.map(\.id))
        changes += old.pairs.filter { !newPairs.contains($0.id) }.map { .deletePair($0.id) }
        changes += old.groups.filter { !newGroups.contains($0.id) }.map { .deleteGroup($0.id) }
        changes += old.speakers.filter { !newSpeakers.contains($0.id) }.map { .deleteSpeaker($0.id) }
        changes += old.streams.filter { !newStreams.contains($0.id) }.map { .deleteStream($0.id) }
        let newRoutines = Set(new.routines.map(\.id))
        changes += old.routines.filter { !newRoutines.contains($0.id) }.map { .deleteRoutine($0.id) }
        for (position, speaker) in new.speakers.enumerated()
        where old.speakers.indices.contains(position) ? old.speakers[position] != speaker : true {
            changes.append(.putSpeaker(speaker, position: position))
        }
        for (position, group) in new.groups.enumerated()
        where old.groups.indices.contains(position) ? old.groups[position] != group : true {
            changes.append(.putGroup(group, position: position))
        }
        changes += new.pairs.filter { !old.pairs.contains($0) }.map { .putPair($0) }
        changes += new.streams.filter { !old.streams.contains($0) }.map { .putStream($0) }
        if old.party != new.party { changes.append(.setParty(new.party)) }
        for (position, routine) in new.routines.enumerated()
        where old.routines.indices.contains(position) ? old.routines[position] != routine : true {
            changes.append(.putRoutine(routine, position: position))
        }
        return changes
    }
}

extension SystemModel {
    /// What the store keeps of this model.
    public var persistent: PersistentState {
        PersistentState(
            speakers: speakers.map { speaker in
                var stored = speaker
                stored.connected = false
                stored.sync = nil
                stored.exclusion = nil
                stored.host.ip = ""
                return stored
            },
            groups: groups, pairs: pairs,
            streams: streams.filter { $0.origin == .api }.map { stream in
                var stored = stream
                stored.status = .idle
                return stored
            },
            party: party, routines: routines)
    }

    /// A model from stored state and the streams the configuration has now. What no longer
    /// fits is repaired, never dropped silently: groups of streams that are gone play the
    /// default stream; speakers in no group get one each. Every speaker starts disconnected.
    public init(restoring state: PersistentState, configuredStreams: [StreamInfo], newID: () -> String) {
        self.init(streams: configuredStreams)
        for stream in state.streams where self.stream(stream.id) == nil { streams.append(stream) }
        speakers = []
        for speaker in state.speakers where self.speaker(speaker.id) == nil { speakers.append(speaker) }
        var placed = Set<String>()
        for var group in state.groups {
            group.speakerIDs = group.speakerIDs.filter { speaker($0) != nil && placed.insert($0).inserted }
            if stream(group.streamID) == nil { group.streamID = defaultStreamID }
            if !group.speakerIDs.isEmpty, self.group(group.id) == nil { groups.append(group) }
        }
        for speaker in speakers where !placed.contains(speaker.id) {
            groups.append(SpeakerGroup(id: newID(), streamID: defaultStreamID, speakerIDs: [speaker.id]))
        }
        var paired = Set<String>()
        for pair in state.pairs where speaker(pair.left) != nil && speaker(pair.right) != nil && pair.left != pair.right {
            guard paired.insert(pair.left).inserted, paired.insert(pair.right).inserted else { continue }
            pairs.append(pair)
        }
        for pair in pairs {
            if let index = speakers.firstIndex(where: { $0.id == pair.left }) { speakers[index].channel = .left }
            if let index = speakers.firstIndex(where: { $0.id == pair.right }) { speakers[index].channel = .right }
        }
        if let party = state.party, group(party.groupID) != nil { self.party = party }
        for routine in state.routines where !routines.contains(where: { $0.id == routine.id }) { routines.append(routine) }
        keepPairsTogether()
    }
}
