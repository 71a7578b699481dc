/// What an action acts on: a speaker, a group, a stereo pair, or every speaker.
public enum Target: Sendable, Equatable {
    case speaker(String)
    case group(String)
    case pair(String)
    case everywhere
}

/// Finds speakers, groups, pairs, streams and routines in a model by the names people use
/// (through ``NameMatcher``). Pure.
///
/// When one name fits several things at once, the broader wins where that is what people
/// mean: a group over the speakers in it, a pair over its two speakers, and a group, pair or
/// speaker that are the same speakers count as one ("Kitchen", the group of the speaker
/// "Kitchen"). Anything else is ambiguous.
public struct Targets: Sendable {
    public let model: SystemModel

    public init(_ model: SystemModel) {
        self.model = model
    }

    /// Words that mean every speaker, compared without case, spaces or "the".
    static let everywhereWords: Set<String> = [
        "everywhere", "all", "everything", "allspeakers", "allrooms", "everyroom", "everyspeaker", "wholehouse", "house", "allgroups",
    ]

    public static func meansEverywhere(_ text: String) -> Bool {
        everywhereWords.contains(NameMatcher.compact(text.lowercased().split(separator: " ").filter { $0 != "the" }.joined()))
    }

    // MARK: Resolving

    public func target(_ name: String) throws(ControlError) -> Target {
        var candidates: [NameMatcher.Candidate] = model.speakers.map(Self.candidate)
        candidates += model.groups.map { NameMatcher.Candidate(id: "g:" + $0.id, names: [$0.name, $0.id]) }
        candidates += model.pairs.map { NameMatcher.Candidate(id: "p:" + $0.id, names: [$0.name, $0.id]) }
        if Self.meansEverywhere(name) {
            // "all" is everywhere, unless something is called just that (a speaker named "House").
            if case .found(let hit) = NameMatcher.match(name, among: candidates, loosely: false) { return Self.target(fromCandidateID: hit.id) }
            return .everywhere
        }
        switch NameMatcher.match(name, among: candidates) {
        case .found(let hit):
            return Self.target(fromCandidateID: hit.id)
        case .ambiguous(let hits):
            let targets = hits.map { Self.target(fromCandidateID: $0.id) }
            if let broadest = broadest(of: targets) { return broadest }
            throw .unresolved(NameProblem(name: name, kind: "speaker or group", candidates: targets.map(describe)))
        case .notFound(let suggestions):
            throw .unresolved(NameProblem(name: name, kind: "speaker or group", suggestions: suggestions))
        }
    }

    public func stream(_ name: String) throws(ControlError) -> String {
        try resolve(name, kind: "stream", model.streams.map { NameMatcher.Candidate(id: $0.id, names: [$0.id]) })
    }

    public func speaker(_ name: String, kind: String = "speaker") throws(ControlError) -> String {
        let id = try resolve(name, kind: kind, model.speakers.map(Self.candidate))
        return String(id.dropFirst(2))
    }

    /// A pair by its name, or by one of its speakers.
    public func pair(_ name: String) throws(ControlError) -> String {
        switch try target(name) {
        case .pair(let id): return id
        case .speaker(let id):
            if let pair = model.pair(of: id) { return pair.id }
            throw .conflict("\(describe(.speaker(id))) is in no stereo pair")
        case .group(let id):
            let pairs = model.pairs.filter { model.group(of: $0.left)?.id == id }
            guard pairs.count == 1 else { throw .conflict("\(describe(.group(id))) holds \(pairs.count) stereo pairs; name the pair") }
            return pairs[0].id
        case .everywhere:
            throw .invalidValue("name the stereo pair to split")
        }
    }

    /// - Parameter loosely: also by prefix, words and typos (false: the whole name, as
    ///   `Routine.Update` and `Routine.Delete` need, where a near miss must not hit another).
    public func routine(_ name: String, loosely: Bool = true) throws(ControlError) -> Routine {
        let id = try resolve(name, kind: "routine", model.routines.map { NameMatcher.Candidate(id: $0.id, names: $0.phrases) }, loosely: loosely)
        return model.routines.first { $0.id == id }!
    }

    private func resolve(_ name: String, kind: String, _ candidates: [NameMatcher.Candidate], loosely: Bool = true) throws(ControlError) -> String {
        switch NameMatcher.match(name, among: candidates, loosely: loosely) {
        case .found(let hit): return hit.id
        case .ambiguous(let hits): throw .unresolved(NameProblem(name: name, kind: kind, candidates: hits.map(\.displayName)))
        case .notFound(let suggestions):
            let closest = loosely ? suggestions : (NameMatcher.match(name, among: candidates).suggestionsOrHits)
            throw .unresolved(NameProblem(name: name, kind: kind, suggestions: closest))
        }
    }

    static func candidate(_ speaker: Speaker) -> NameMatcher.Candidate {
        NameMatcher.Candidate(id: "s:" + speaker.id, names: [speaker.displayName, speaker.name, speaker.host.name, speaker.id])
    }

    private static func target(fromCandidateID id: String) -> Target {
        let rest = String(id.dropFirst(2))
        switch id.prefix(2) {
        case "g:": return .group(rest)
        case "p:": return .pair(rest)
        default: return .speaker(rest)
        }
    }

    /// The one target that covers all the others, if there is one.
    private func broadest(of targets: [Target]) -> Target? {
        let rank = { (target: Target) -> Int in
            switch target {
            case .everywhere: 3
            case .group: 2
            case .pair: 1
            case .speaker: 0
            }
        }
        guard let widest = targets.max(by: { rank($0) < rank($1) }), targets.filter({ rank($0) == rank(widest) }).count == 1 else {
            return nil
        }
        let covered = Set(speakers(of: widest))
        return targets.allSatisfy { Set(speakers(of: $0)).isSubset(of: covered) } ? widest : nil
    }

    // MARK: What a target holds

    /// The target's speakers, stereo partners included.
    public func speakers(of target: Target) -> [String] {
        switch target {
        case .speaker(let id): model.withPartners([id])
        case .group(let id): model.group(id)?.speakerIDs ?? []
        case .pair(let id): model.pair(id)?.members ?? []
        case .everywhere: model.groups.flatMap(\.speakerIDs)
        }
    }

    /// The groups the target's speakers are in, each once.
    public func groups(of target: Target) -> [SpeakerGroup] {
        let ids = Set(speakers(of: target))
        return model.groups.filter { !ids.isDisjoint(with: $0.speakerIDs) }
    }

    /// The target's speakers fill their group exactly: acting on the target is acting on the group.
    public func isWholeGroup(_ target: Target) -> SpeakerGroup? {
        let ids = speakers(of: target)
        guard let group = model.group(of: ids.first ?? ""), Set(group.speakerIDs) == Set(ids) else { return nil }
        return group
    }

    /// "group Kitchen", "speaker Kitchen Speaker", "stereo pair Patio", "everywhere".
    public func describe(_ target: Target) -> String {
        switch target {
        case .speaker(let id): "speaker \(model.speaker(id)?.displayName ?? id)"
        case .group(let id): "group \(groupName(id))"
        case .pair(let id): "stereo pair \(model.pair(id)?.name ?? id)"
        case .everywhere: "everywhere"
        }
    }

    /// A group's name, or its speakers' names when it has none.
    public func groupName(_ id: String) -> String {
        guard let group = model.group(id) else { return id }
        if !group.name.isEmpty { return group.name }
        return group.speakerIDs.map { model.speaker($0)?.displayName ?? $0 }.joined(separator: " + ")
    }
}
