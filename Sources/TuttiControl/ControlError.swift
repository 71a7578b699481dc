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

    public var description: String {
        switch self {
        case .unknownSpeaker(let id): "no speaker '\(id)'"
        case .unknownGroup(let id): "no group '\(id)'"
        case .unknownStream(let id): "no stream '\(id)'"
        case .unknownPair(let id): "no stereo pair '\(id)'"
        case .invalidValue(let message), .conflict(let message): message
        case .storage(let message): "the change could not be stored: \(message)"
        }
    }
}
