/// Finds what a person means by a name: a speaker, group, pair or stream, written as they
/// would say it ("the Kitchen", "patio speakers", "livingroom", "kitchn"). Pure.
///
/// Tries, in order, and stops at the first step that finds anything: the exact ID; a name
/// equal when case and spaces are ignored; equal when plural endings are dropped too; equal
/// once "the", "a" or "my" are dropped from what was said; equal once filler words ("the",
/// "speaker(s)", "room", "group") are dropped from both; a unique prefix; a name holding every word said ("radio" for "Kitchen Radio");
/// then names within a small edit distance (one typo per four letters). Several hits at one
/// step are ambiguous — so "the kitchen" finds "Kitchen" although "Kitchen Speaker" is near.
public enum NameMatcher {
    /// Something that can be named.
    public struct Candidate: Sendable, Equatable {
        public var id: String
        /// The names it answers to (its name, host name, …); the first is shown.
        public var names: [String]

        public init(id: String, names: [String]) {
            self.id = id
            self.names = names.filter { !$0.isEmpty }
        }

        public var displayName: String { names.first ?? id }
    }

    public enum Match: Sendable, Equatable {
        case found(Candidate)
        case ambiguous([Candidate])
        /// Nothing fits; the closest names, best first (at most three).
        case notFound(suggestions: [String])

        /// The names to offer as "did you mean": the hits, or the suggestions.
        public var suggestionsOrHits: [String] {
            switch self {
            case .found(let hit): [hit.displayName]
            case .ambiguous(let hits): hits.map(\.displayName)
            case .notFound(let suggestions): suggestions
            }
        }
    }

    /// - Parameter loosely: also by prefix, by words and with typos (false: only the steps that
    ///   compare whole names).
    public static func match(_ query: String, among candidates: [Candidate], loosely: Bool = true) -> Match {
        if let exact = candidates.first(where: { $0.id == query }) { return .found(exact) }
        // (what was said, the candidate's name) in the forms each step compares.
        let steps: [(query: String, name: (String) -> String)] = [
            (compact(query), compact),
            (singular(query, dropFillers: false), { singular($0, dropFillers: false) }),
            (singular(withoutArticles(query), dropFillers: false), { singular($0, dropFillers: false) }),
            (normalized(query), normalized),
        ]
        for step in steps where !step.query.isEmpty {
            let hits = candidates.filter { candidate in ([candidate.id] + candidate.names).contains { step.name($0) == step.query } }
            if let result = decide(hits) { return result }
        }
        guard loosely else { return .notFound(suggestions: []) }
        let key = normalized(query)
        if key.count >= 3 {
            let prefixed = candidates.filter { ([$0.id] + $0.names).contains { normalized($0).hasPrefix(key) } }
            if let result = decide(prefixed) { return result }
            let said = Set(words(query, dropFillers: true))
            let holding = candidates.filter { ([$0.id] + $0.names).contains { said.isSubset(of: words($0, dropFillers: false)) } }
            if let result = decide(holding) { return result }
        }
        let scored = candidates.map { candidate in
            (candidate, ([candidate.id] + candidate.names).map { distance(normalized($0), key) }.min() ?? .max)
        }
        let allowed = max(1, key.count / 4)
        let close = scored.filter { $0.1 <= allowed }
        if let best = close.map(\.1).min(), let result = decide(close.filter { $0.1 == best }.map(\.0)) { return result }
        let suggestions = scored.sorted { $0.1 < $1.1 }.prefix(3).map(\.0.displayName)
        return .notFound(suggestions: Array(suggestions))
    }

    private static func decide(_ hits: [Candidate]) -> Match? {
        var unique: [Candidate] = []
        for hit in hits where !unique.contains(where: { $0.id == hit.id }) { unique.append(hit) }
        switch unique.count {
        case 0: return nil
        case 1: return .found(unique[0])
        default: return .ambiguous(unique)
        }
    }

    /// Lowercased, letters and digits only.
    static func compact(_ text: String) -> String {
        String(text.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    static let fillers: Set<String> = ["the", "a", "my", "speaker", "speakers", "room", "rooms", "group", "groups", "in", "on"]

    static func withoutArticles(_ text: String) -> String {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.filter { !["the", "a", "my"].contains($0) }.joined(separator: " ")
    }

    /// Words without fillers and plural endings, run together.
    static func normalized(_ text: String) -> String { singular(text, dropFillers: true) }

    /// Words without plural endings (and fillers, if asked), run together.
    static func singular(_ text: String, dropFillers: Bool) -> String { words(text, dropFillers: dropFillers).joined() }

    /// Lowercased words without plural endings; without fillers if asked (unless that leaves none).
    static func words(_ text: String, dropFillers: Bool) -> [String] {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        let kept = dropFillers ? words.filter { !fillers.contains($0) } : words
        return (kept.isEmpty ? words : kept).map { word in
            word.count > 3 && word.hasSuffix("s") && !word.hasSuffix("ss") ? String(word.dropLast()) : word
        }
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
