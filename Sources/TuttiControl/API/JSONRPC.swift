/// JSON-RPC 2.0 messages as Snapcast's control API uses them: requests (alone or in a batch),
/// responses, notifications and error objects. Pure parsing and rendering; no transport.
public enum JSONRPC {
    /// One request of a message. A request without an `id` is a notification: it runs, and
    /// nothing is answered.
    public struct Request: Sendable, Equatable {
        public var id: JSON?
        public var method: String
        public var params: JSON

        public init(id: JSON?, method: String, params: JSON = .object([:])) {
            self.id = id
            self.method = method
            self.params = params
        }

        public var expectsResponse: Bool { id != nil }
    }

    /// What a received message turned out to be.
    public enum Message: Sendable, Equatable {
        case single(Request)
        /// A batch: each element is a request, or the error answering an element that was not one.
        case batch([Result<Request, Failure>])
        /// Nothing runnable: answer with this error (parse error, invalid request, empty batch).
        case invalid(Failure)
    }

    /// An error with the request ID it answers (null when the ID could not be read).
    public struct Failure: Error, Sendable, Equatable {
        public var id: JSON
        public var error: RPCError
    }

    /// Parses one message (one line on TCP, one HTTP body, one WebSocket text frame).
    public static func parse(_ bytes: some Collection<UInt8>) -> Message {
        let json: JSON
        do {
            json = try JSON(parsing: bytes)
        } catch {
            return .invalid(Failure(id: .null, error: .parseError(error.reason)))
        }
        switch json {
        case .array(let elements):
            guard !elements.isEmpty else { return .invalid(Failure(id: .null, error: .invalidRequest("empty batch"))) }
            return .batch(elements.map(request))
        default:
            switch request(json) {
            case .success(let request): return .single(request)
            case .failure(let failure): return .invalid(failure)
            }
        }
    }

    static func request(_ json: JSON) -> Result<Request, Failure> {
        guard case .object(let members) = json else {
            return .failure(Failure(id: .null, error: .invalidRequest("a request is a JSON object, not \(json.typeName)")))
        }
        var id: JSON? = members["id"]
        switch id {
        case nil, .string?, .int?, .null?: break
        case .double(let value)? where value.rounded() == value:
            // An integer written as a double (`7.0`) is that integer; one beyond Int's range
            // (`1e22`) stays as it was sent, to be echoed back.
            if let integer = JSON.double(value).intValue { id = .int(integer) }
        default: return .failure(Failure(id: .null, error: .invalidRequest("'id' must be a string, an integer or null")))
        }
        let answerID = id ?? .null
        guard members["jsonrpc"] == .string("2.0") else {
            return .failure(Failure(id: answerID, error: .invalidRequest("'jsonrpc' must be \"2.0\"")))
        }
        guard case .string(let method)? = members["method"], !method.isEmpty else {
            return .failure(Failure(id: answerID, error: .invalidRequest("'method' must be a non-empty string")))
        }
        let params = members["params"] ?? .object([:])
        switch params {
        case .object, .array: break
        default: return .failure(Failure(id: answerID, error: .invalidRequest("'params' must be an object or an array")))
        }
        return .success(Request(id: id, method: method, params: params))
    }

    /// A success response.
    public static func response(id: JSON, result: JSON) -> JSON {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    /// An error response.
    public static func response(id: JSON, error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }

    /// A notification (no ID): what other control clients hear of a change.
    public static func notification(method: String, params: JSON) -> JSON {
        ["jsonrpc": "2.0", "method": .string(method), "params": params]
    }
}

/// A JSON-RPC error object: the standard codes, and Snapcast's habit of answering "not found"
/// with an internal error that names what was not found.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func parseError(_ detail: String) -> RPCError { RPCError(code: -32700, message: "Parse error", data: .string(detail)) }
    public static func invalidRequest(_ detail: String) -> RPCError { RPCError(code: -32600, message: "Invalid request", data: .string(detail)) }
    public static func methodNotFound(_ method: String) -> RPCError { RPCError(code: -32601, message: "Method not found", data: .string(method)) }
    public static func invalidParams(_ detail: String) -> RPCError { RPCError(code: -32602, message: "Invalid params", data: .string(detail)) }
    public static func internalError(_ detail: String) -> RPCError { RPCError(code: -32603, message: "Internal error", data: .string(detail)) }

    /// Tutti's server errors (JSON-RPC reserves -32000…-32099 for them).
    /// The request needs a token: from this address, call Server.Authenticate first (TCP) or send
    /// `Authorization: Bearer …` (HTTP, WebSocket).
    public static let unauthorized = RPCError(code: -32001, message: "Unauthorized", data: "this address needs a token: Server.Authenticate {token} or Authorization: Bearer")
    /// The request is larger than the server accepts.
    public static func tooLarge(limit: Int) -> RPCError { RPCError(code: -32002, message: "Request too large", data: .string("the limit is \(limit) bytes")) }
    /// The change could not be stored, so it was not made.
    public static func storageFailed(_ detail: String) -> RPCError { RPCError(code: -32003, message: "Storage failed", data: .string(detail)) }
    /// The change contradicts the current state.
    public static func conflict(_ detail: String) -> RPCError { RPCError(code: -32004, message: "Conflict", data: .string(detail)) }
    /// The operation is not possible on this server or stream.
    public static func notSupported(_ detail: String) -> RPCError { RPCError(code: -32005, message: "Not supported", data: .string(detail)) }
    /// A name or a sentence that fits nothing, or several things: nothing was done. `data` says
    /// why (`detail`), what was understood, and the names it could be or the closest ones.
    public static func notUnderstood(_ detail: String, names: NameProblem? = nil, understood: String? = nil) -> RPCError {
        var data: [String: JSON] = ["detail": .string(detail)]
        if let understood { data["understood"] = .string(understood) }
        if let names {
            data["name"] = .string(names.name)
            data["kind"] = .string(names.kind)
            data["candidates"] = .array(names.candidates.map(JSON.string))
            data["suggestions"] = .array(names.suggestions.map(JSON.string))
        }
        return RPCError(code: -32006, message: "Not understood", data: .object(data))
    }

    /// How a refused command is answered.
    public init(_ error: ControlError) {
        switch error {
        case .unknownSpeaker: self = RPCError(code: -32603, message: "Client not found", data: .string(error.description))
        case .unknownGroup: self = RPCError(code: -32603, message: "Group not found", data: .string(error.description))
        case .unknownStream: self = RPCError(code: -32603, message: "Stream not found", data: .string(error.description))
        case .unknownPair: self = RPCError(code: -32603, message: "Pair not found", data: .string(error.description))
        case .invalidValue(let detail): self = .invalidParams(detail)
        case .conflict(let detail): self = .conflict(detail)
        case .storage(let detail): self = .storageFailed(detail)
        case .unresolved(let problem): self = .notUnderstood(problem.description, names: problem)
        case .unavailable(let detail): self = .notSupported(detail)
        case .refused(let error): self = error
        }
    }

    public var json: JSON {
        var members: [String: JSON] = ["code": .int(code), "message": .string(message)]
        if let data { members["data"] = data }
        return .object(members)
    }

    public var description: String {
        if case .string(let detail)? = data { return "\(message): \(detail)" }
        if case .string(let detail)? = data?["detail"] { return "\(message): \(detail)" }
        return message
    }
}
