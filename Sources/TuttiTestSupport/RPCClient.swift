import Foundation
import TuttiControl

/// A JSON-RPC client on the control port, line by line as Snapcast's clients speak it, for
/// tests: calls, raw bytes, and the notifications that arrive in between. Use it from one task
/// at a time (it may be handed to another task, hence `@unchecked Sendable`).
public final class RPCClient: @unchecked Sendable {
    private let socket: BlockingSocket
    private var inbound: [UInt8] = []
    private var nextID = 1
    /// Notifications received so far, oldest first (read them with ``notification(_:within:)``).
    public private(set) var notifications: [JSON] = []
    /// Every line received, as text (for checking framing).
    public private(set) var lines: [String] = []

    public init(port: Int) throws { socket = try BlockingSocket(port: port) }

    public var closedByPeer: Bool { socket.closedByPeer }

    /// Sends bytes as they are.
    public func sendRaw(_ bytes: [UInt8]) { socket.send(bytes) }

    /// Sends one line (with `\r\n`).
    public func sendLine(_ text: String) { socket.send(Array((text + "\r\n").utf8)) }

    /// Calls a method and waits for its response (the whole response object: `result` or `error`).
    public func call(_ method: String, _ params: JSON = [:], within seconds: Double = 5) throws -> JSON {
        let id = nextID
        nextID += 1
        sendLine(JSON.object(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]).text)
        return try response(id: .int(id), within: seconds)
    }

    /// Calls a method and returns its `result`, or throws its error object.
    public func result(_ method: String, _ params: JSON = [:], within seconds: Double = 5) throws -> JSON {
        let response = try call(method, params, within: seconds)
        if let error = response["error"] { throw RPCTestError.errorResponse(error) }
        return response["result"] ?? .null
    }

    /// Waits for the response with this ID.
    public func response(id: JSON, within seconds: Double = 5) throws -> JSON {
        guard let message = try next(within: seconds, where: { $0["id"] == id }) else { throw RPCTestError.noResponse(id) }
        return message
    }

    /// Waits for the next message that is not a notification (a response or a batch).
    public func nextResponse(within seconds: Double = 5) throws -> JSON? {
        try next(within: seconds) { $0["method"] == nil }
    }

    /// The first notification of `method` received (now or within `seconds`), taken from the list.
    public func notification(_ method: String, within seconds: Double = 5, where matches: (JSON) -> Bool = { _ in true }) -> JSON? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let index = notifications.firstIndex(where: { $0["method"] == .string(method) && matches($0["params"] ?? .null) }) {
                return notifications.remove(at: index)
            }
            _ = try? next(within: 0.1) { _ in false }
        } while Date() < deadline && !socket.closedByPeer
        return nil
    }

    /// Waits up to `seconds` for the server to close the connection.
    public func waitForClose(seconds: Double) -> Bool {
        _ = try? next(within: seconds) { _ in false }
        return socket.closedByPeer
    }

    /// Reads messages for up to `seconds`, keeping notifications, until one matches.
    private func next(within seconds: Double, where matches: (JSON) -> Bool) throws -> JSON? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            while let newline = inbound.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(inbound[..<newline])
                inbound.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                lines.append(String(decoding: line, as: UTF8.self))
                let message = try JSON(parsing: line)
                if matches(message) { return message }
                if message["method"] != nil, message["id"] == nil { notifications.append(message) }
            }
            guard Date() < deadline, !socket.closedByPeer else { return nil }
            inbound += socket.receive()
        }
    }
}

public enum RPCTestError: Error, CustomStringConvertible {
    case noResponse(JSON)
    case errorResponse(JSON)

    public var description: String {
        switch self {
        case .noResponse(let id): "no response to request \(id.text)"
        case .errorResponse(let error): "error response \(error.text)"
        }
    }
}
