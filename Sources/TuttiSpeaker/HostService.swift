import TuttiControl

/// What a speaker host answers besides playing: JSON-RPC requests the server relays to it over
/// the speaker connection (HostCall frames), such as `Bluetooth.*` for the box's Bluetooth
/// speakers. A speaker with a host service announces "rpc" and the service's `capabilities`
/// in its Hello, so only a Tutti server ever sends it one.
public protocol HostService: Sendable {
    /// Added to the Hello's capabilities: "bluetooth", …
    var capabilities: [String] { get }
    /// Answers one request (on any task; it may take as long as a Bluetooth pairing does).
    func handle(_ request: JSONRPC.Request) async -> Result<JSON, RPCError>
}

enum HostCalls {
    /// The response text to a HostCall's JSON text, or nil for a notification or bytes that
    /// are not one request (answered with an error if they carry an id).
    static func answer(_ text: String, with service: (any HostService)?) async -> String? {
        switch JSONRPC.parse(Array(text.utf8)) {
        case .invalid(let failure):
            return JSONRPC.response(id: failure.id, error: failure.error).text
        case .batch:
            return JSONRPC.response(id: .null, error: .invalidRequest("a speaker host takes one request at a time")).text
        case .single(let request):
            let result: Result<JSON, RPCError> =
                if let service { await service.handle(request) } else { .failure(.methodNotFound(request.method)) }
            guard let id = request.id else { return nil }
            switch result {
            case .success(let value): return JSONRPC.response(id: id, result: value).text
            case .failure(let error): return JSONRPC.response(id: id, error: error).text
            }
        }
    }
}
