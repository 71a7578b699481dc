import Foundation
import NIOCore
import NIOPosix
import TuttiControl

/// A JSON-RPC connection to a Tutti (or Snapcast) server's control port, for `tutti ctl`:
/// one request at a time, each answered within a timeout, notifications skipped.
struct ControlConnection {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let box: Buffer
    static let timeout: Duration = .seconds(5)

    /// Bytes read but not yet split into lines; a class so the iterator can be shared.
    private final class Buffer: @unchecked Sendable {
        var bytes: [UInt8] = []
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var nextID = 1
        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }
    }

    /// Connects, authenticates with `token` when given, runs `body`, and closes.
    static func with<T: Sendable>(
        host: String, port: Int, token: String?, _ body: (ControlConnection) async throws -> T
    ) async throws -> T {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            throw CtlError.unreachable("cannot reach the Tutti server at \(host):\(port) (\(error)); is `tutti server` running there?")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = ControlConnection(inbound: inbound, outbound: outbound)
            if let token { _ = try await connection.call("Server.Authenticate", ["token": .string(token)]) }
            return try await body(connection)
        }
    }

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
        self.box = Buffer(inbound.makeAsyncIterator())
    }

    /// Calls a method; returns its result or throws ``CtlError/rpc(_:)`` with the error object.
    /// A routine's run answers when its last action is done, so it gets a longer `timeout`.
    func call(_ method: String, _ params: JSON = [:], timeout: Duration = Self.timeout) async throws -> JSON {
        let id = box.nextID
        box.nextID += 1
        let request: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
        try await outbound.write(ByteBuffer(string: request.text + "\r\n"))
        let box = self.box
        let response = try await withThrowingTaskGroup(of: JSON?.self) { group in
            group.addTask { try await Self.read(id: .int(id), from: box) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let response else { throw CtlError.unreachable("the server did not answer \(method) within \(timeout)") }
        if let error = response["error"] {
            throw CtlError.rpc(RPCError(code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? "error", data: error["data"]))
        }
        return response["result"] ?? .null
    }

    private static func read(id: JSON, from box: Buffer) async throws -> JSON {
        while true {
            while let newline = box.bytes.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(box.bytes[..<newline])
                box.bytes.removeSubrange(...newline)
                guard let message = try? JSON(parsing: line.last == 13 ? Array(line.dropLast()) : line) else { continue }
                if message["id"] == id { return message }
            }
            guard let chunk = try await box.iterator.next() else { throw CtlError.unreachable("the server closed the connection") }
            box.bytes += chunk.readableBytesView
        }
    }
}

/// Why a `tutti ctl` command failed, worded for the user, with its exit code.
enum CtlError: Error, CustomStringConvertible {
    /// The server could not be reached or did not answer (exit 1).
    case unreachable(String)
    /// The server answered with an error object (exit 1).
    case rpc(RPCError)
    /// A speaker, group, pair or stream that does not exist, or is ambiguous (exit 2).
    case notFound(String)
    /// The command line is wrong (exit 64).
    case usage(String)

    var description: String {
        switch self {
        case .unreachable(let message), .notFound(let message), .usage(let message): message
        case .rpc(let error): "the server refused: \(error)"
        }
    }

    var exitCode: Int32 {
        switch self {
        case .unreachable, .rpc: 1
        case .notFound: 2
        case .usage: 64
        }
    }
}
