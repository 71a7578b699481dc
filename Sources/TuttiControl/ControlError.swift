/// Why a command was refused. Nothing changes when a command throws.
public enum ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownSpeaker(String)
    case unknownGroup(String)
    case unknownStream(String)
    case unknownPair(String)
    /// A parameter's value is out of range or malformed.
    case invalidValue(String)
    /// The command contradicts the current state (a speaker already paired, a stream that
    /// exists, a configured stream that only the configuration can remove).
    case conflict(String)
    /// The change could not be stored; nothing was changed.
    case storage(String)
    /// A name, as people say it, that fits nothing or several things.
    case unresolved(NameProblem)
    /// The server has no such feature (Bluetooth with no speaker host that has it, …).
    case unavailable(String)
    /// Another part refused (a speaker host's Bluetooth): its error, passed on as it is.
    case refused(RPCError)

    public var description: String {
        switch self {
        case .unknownSpeaker(let id): "no speaker '\(id)'"
        case .unknownGroup(let id): "no group '\(id)'"
        case .unknownStream(let id): "no stream '\(id)'"
        case .unknownPair(let id): "no stereo pair '\(id)'"
        case .invalidValue(let message), .conflict(let message): message
        case .storage(let message): "the change could not be stored: \(message)"
        case .unresolved(let problem): problem.description
        case .unavailable(let message): message
        case .refused(let error):
            if case .string(let detail)? = error.data?["message"] { detail } else { error.description }
        }
    }
}

/// A name that fits nothing, or several things equally well.
public struct NameProblem: Sendable, Equatable, CustomStringConvertible {
    /// What was said.
    public var name: String
    /// What it was meant to be: "speaker or group", "stream", "routine", …
    public var kind: String
    /// When ambiguous: the names it could be.
    public var candidates: [String]
    /// When unknown: the closest known names, best first.
    public var suggestions: [String]

    public init(name: String, kind: String, candidates: [String] = [], suggestions: [String] = []) {
        self.name = name
        self.kind = kind
        self.candidates = candidates
        self.suggestions = suggestions
    }

    public var description: String {
        if !candidates.isEmpty { return "'\(name)' could be \(Self.list(candidates, joiner: "or")); say which" }
        let closest = suggestions.isEmpty ? "" : " (closest: \(suggestions.joined(separator: ", ")))"
        return "no \(kind) '\(name)'\(closest)"
    }

    static func list(_ names: [String], joiner: String) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " \(joiner) " + names.last!
    }
}
