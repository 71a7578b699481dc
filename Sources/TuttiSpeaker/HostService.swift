import NIOConcurrencyHelpers
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

/// What a host tells the server unasked (JSON-RPC notifications in HostCall frames): the latest
/// of each, kept so that it is sent again on every new connection to a Tutti server. Nothing
/// is sent to a server that is not Tutti's (it never asks for status reports).
final class HostNotices: Sendable {
    private struct State {
        var latest: [String: String] = [:]  // method → JSON text
        var session: SpeakerSession?
    }
    private let state = NIOLockedValueBox(State())

    /// Sends `json` (a notification for `method`) now if connected to a Tutti server, and on
    /// every later connection until replaced.
    func publish(method: String, _ json: String) {
        let session = state.withLockedValue { state in
            state.latest[method] = json
            return state.session
        }
        session?.sendHostNotice(json)
    }

    /// A session learned that its server is Tutti's: it gets everything published so far.
    func attach(_ session: SpeakerSession) -> [String] {
        state.withLockedValue { state in
            state.session = session
            return state.latest.keys.sorted().compactMap { state.latest[$0] }
        }
    }

    func detach(_ session: SpeakerSession) {
        state.withLockedValue { state in
            if state.session === session { state.session = nil }
        }
    }
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
