/// A stream as the control plane sees it: a name, the URI it was made from, and whether it is
/// playing. Audio itself never passes through the model.
public struct StreamInfo: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case idle, playing, unknown
    }

    /// Where the stream came from, which decides whether it is stored and whether it can be removed.
    public enum Origin: String, Sendable, Codable {
        /// The configuration file or the command line: always there, removed only there.
        case configuration
        /// Added through the API: stored, removable.
        case api
    }

    /// The stream's name (`name=` in its URI), unique.
    public var id: String
    /// The URI exactly as given.
    public var uri: String
    public var status: Status
    public var origin: Origin
    /// Stream properties in Snapcast's sense (metadata and controls); empty for Tutti's sources.
    public var properties: [String: JSON]

    public init(id: String, uri: String, status: Status = .idle, origin: Origin = .configuration, properties: [String: JSON] = [:]) {
        self.id = id
        self.uri = uri
        self.status = status
        self.origin = origin
        self.properties = properties
    }
}
