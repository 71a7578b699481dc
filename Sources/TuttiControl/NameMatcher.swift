/// Finds what a person means by a name: a speaker, group, pair or stream, written as they
/// would say it ("the Kitchen", "patio speakers", "livingroom", "kitchn"). Pure.
///
/// Tries, in order, and stops at the first step that finds anything: the exact ID; a name
/// equal when case and spaces are ignored; equal once filler words ("the", "speaker(s)",
/// "room", "group") and plural endings are dropped; a unique prefix; then names within a
/// small edit distance (one typo per four letters). Several hits at one step are ambiguous.
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
    }

    public static func match(_ query: String, among candidates: [Candidate]) -> Match {
        if let exact = candidates.first(where: { $0.id == query }) { return .found(exact) }
        let steps: [(String) -> String] = [compact, normalized]
        for step in steps {
            let key = step(query)
            guard !key.isEmpty else { continue }
            let hits = candidates.filter { candidate in ([candidate.id] + candidate.names).contains { step($0) == key } }
            if let result = decide(hits) { return result }
        }
        let key = normalized(query)
        if key.count >= 3 {
            let prefixed = candidates.filter { ([$0.id] + $0.names).contains { normalized($0).hasPrefix(key) } }
            if let result = decide(prefixed) { return result }
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

    /// Words without fillers and plural endings, run together.
    static func normalized(_ text: String) -> String {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        let kept = words.filter { !fillers.contains($0) }
        return (kept.isEmpty ? words : kept).map { word in
            word.count > 3 && word.hasSuffix("s") && !word.hasSuffix("ss") ? String(word.dropLast()) : word
        }.joined()
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
