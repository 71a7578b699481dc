import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection to a message bus (the system bus, where BlueZ lives, or a test's private one),
/// speaking the D-Bus wire protocol directly over its Unix socket: SASL EXTERNAL authentication,
/// `Hello`, method calls matched to their replies by serial, signals to subscribers, and method
/// calls from the bus to objects this side exports (BlueZ calls an agent that way).
///
/// All state sits behind one lock; the channel's event loop reads, any task writes. A call that
/// gets no reply fails with `DBusError.timedOut`; when the bus goes away every pending call
/// fails with `DBusError.disconnected` and signal streams finish.
public final class DBusConnection: Sendable {
    /// Answers a method call to an exported object: the reply body or a D-Bus error.
    public typealias MethodHandler = @Sendable (DBusMessage) async -> Result<[DBusValue], DBusError>

    private struct State {
        var nextSerial: UInt32 = 1
        var pending: [UInt32: CheckedContinuation<DBusMessage, any Error>] = [:]
        var objects: [String: MethodHandler] = [:]
        var subscribers: [UUID: (MatchRule, AsyncStream<DBusMessage>.Continuation)] = [:]
        var closed: String?
    }

    private let channel: any Channel
    private let state = NIOLockedValueBox(State())
    private let name = NIOLockedValueBox("")
    /// The name the bus gave this connection (":1.42").
    public var uniqueName: String { name.withLockedValue { $0 } }

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// The system bus: `DBUS_SYSTEM_BUS_ADDRESS` if set, else the standard socket.
    public static func systemBus() async throws -> DBusConnection {
        let address = ProcessInfo.processInfo.environment["DBUS_SYSTEM_BUS_ADDRESS"] ?? "unix:path=/run/dbus/system_bus_socket"
        return try await connect(to: address)
    }

    /// Connects to a bus address (`unix:path=…`; the first usable of several `;`-separated ones),
    /// authenticates as this process's user and says Hello.
    public static func connect(to address: String, timeout: Duration = .seconds(5)) async throws -> DBusConnection {
        let path = try socketPath(of: address)
        let authenticated = NIOLockedValueBox<CheckedContinuation<Void, any Error>?>(nil)
        let connection = NIOLockedValueBox<DBusConnection?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DBusFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(InboundHandler { event in
                            switch event {
                            case .line(let line):
                                let waiter = authenticated.withLockedValue { w in defer { w = nil }; return w }
                                if line.hasPrefix("OK") { waiter?.resume() } else {
                                    waiter?.resume(throwing: DBusError.disconnected("the bus refused authentication: \(line)"))
                                }
                            case .message(let message): connection.withLockedValue { $0 }?.received(message)
                            case .closed(let why):
                                authenticated.withLockedValue { w in defer { w = nil }; return w }?.resume(throwing: DBusError.disconnected(why))
                                connection.withLockedValue { $0 }?.closed(why)
                            }
                        })
                    }
                }
                .connect(unixDomainSocketPath: path).get()
        } catch {
            throw DBusError.disconnected("cannot reach the bus at \(path): \(error)")
        }
        let bus = DBusConnection(channel: channel)
        connection.withLockedValue { $0 = bus }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                authenticated.withLockedValue { $0 = continuation }
                channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                    authenticated.withLockedValue { w in defer { w = nil }; return w }?.resume(throwing: DBusError.timedOut("authentication"))
                }
                let uid = String(getuid()).utf8.map { String(format: "%02x", $0) }.joined()
                channel.writeAndFlush(ByteBuffer(bytes: [0] + Array("AUTH EXTERNAL \(uid)\r\n".utf8)), promise: nil)
            }
            channel.writeAndFlush(ByteBuffer(string: "BEGIN\r\n"), promise: nil)
            let reply = try await bus.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello", timeout: timeout)
            guard let name = reply.first?.string else { throw DBusError.disconnected("the bus gave no name") }
            bus.name.withLockedValue { $0 = name }
        } catch {
            bus.close()
            throw error
        }
        return bus
    }

    static func socketPath(of address: String) throws(DBusError) -> String {
        for entry in address.split(separator: ";") {
            guard entry.hasPrefix("unix:") else { continue }
            for pair in entry.dropFirst(5).split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == "path" { return unescape(String(parts[1])) }
            }
        }
        throw DBusError.disconnected("no usable unix:path= in the bus address '\(address)'")
    }

    /// Undoes the address format's %XX escapes.
    private static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            if byte == UInt8(ascii: "%"), let high = utf8.next(), let low = utf8.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Calls

    /// Calls a method and returns its reply's body; an error reply throws `DBusError`.
    @discardableResult
    public func call(
        destination: String, path: String, interface: String, member: String, body: [DBusValue] = [],
        timeout: Duration = .seconds(25)
    ) async throws -> [DBusValue] {
        var message = DBusMessage(kind: .methodCall, path: path, interface: interface, member: member, destination: destination, body: body)
        message.serial = takeSerial()
        let serial = message.serial
        let bytes = try message.encoded()
        let what = "\(interface).\(member) on \(destination)"
        let reply = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<DBusMessage, any Error>) in
            let refusal: String? = state.withLockedValue { state in
                if let closed = state.closed { return closed }
                state.pending[serial] = continuation
                return nil
            }
            if let refusal { continuation.resume(throwing: DBusError.disconnected(refusal)); return }
            channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
                self?.state.withLockedValue { $0.pending.removeValue(forKey: serial) }?.resume(throwing: DBusError.timedOut(what))
            }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }
        if reply.kind == .error {
            throw DBusError(name: reply.errorName ?? "org.freedesktop.DBus.Error.Failed", message: reply.firstString ?? "")
        }
        return reply.body
    }

    /// Sends a signal from an exported object.
    public func emitSignal(path: String, interface: String, member: String, body: [DBusValue] = []) throws {
        var message = DBusMessage(kind: .signal, path: path, interface: interface, member: member, body: body)
        message.serial = takeSerial()
        try send(message)
    }

    private func takeSerial() -> UInt32 {
        state.withLockedValue { state in
            defer { state.nextSerial &+= 1; if state.nextSerial == 0 { state.nextSerial = 1 } }
            return state.nextSerial
        }
    }

    private func send(_ message: DBusMessage) throws {
        let bytes = try message.encoded()
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    // MARK: Signals

    /// Signals matching `rule` (a D-Bus match rule such as
    /// "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties'"), from now
    /// until the stream is dropped or the bus goes away. The bus filters by the rule; this side
    /// filters again by its type, interface, member, path and path_namespace (the bus also sends
    /// signals addressed to this connection, such as NameAcquired, whatever the rules).
    public func signals(matching rule: String) async throws -> AsyncStream<DBusMessage> {
        let id = UUID()
        let filter = MatchRule(rule)
        let (stream, continuation) = AsyncStream.makeStream(of: DBusMessage.self, bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
        }
        state.withLockedValue { $0.subscribers[id] = (filter, continuation) }
        try await call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "AddMatch", body: [.string(rule)])
        return stream
    }

    // MARK: Exported objects

    /// Answers method calls to `path` with `handler` (replacing an earlier one). Calls to paths
    /// nobody exported get `UnknownObject`.
    public func export(path: String, handler: @escaping MethodHandler) {
        state.withLockedValue { $0.objects[path] = handler }
    }

    public func unexport(path: String) {
        _ = state.withLockedValue { $0.objects.removeValue(forKey: path) }
    }

    /// Asks the bus for a well-known name; true if this connection now owns it.
    public func requestName(_ name: String) async throws -> Bool {
        let reply = try await call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "RequestName", body: [.string(name), .uint32(4)])
        return reply.first?.int == 1 || reply.first?.int == 4
    }

    public func close() {
        channel.close(promise: nil)
    }

    // MARK: Inbound

    private func received(_ message: DBusMessage) {
        switch message.kind {
        case .methodReturn, .error:
            guard let serial = message.replySerial else { return }
            state.withLockedValue { $0.pending.removeValue(forKey: serial) }?.resume(returning: message)
        case .signal:
            for (rule, subscriber) in state.withLockedValue({ Array($0.subscribers.values) }) where rule.matches(message) {
                subscriber.yield(message)
            }
        case .methodCall:
            answer(message)
        }
    }

    private func answer(_ call: DBusMessage) {
        let handler = state.withLockedValue { $0.objects[call.path ?? ""] }
        let wantsReply = call.flags & DBusMessage.noReplyExpected == 0
        Task {
            let result: Result<[DBusValue], DBusError>
            if let handler {
                result = await handler(call)
            } else if call.interface == "org.freedesktop.DBus.Peer", call.member == "Ping" {
                result = .success([])
            } else {
                result = .failure(DBusError(name: "org.freedesktop.DBus.Error.UnknownObject", message: "no object at \(call.path ?? "")"))
            }
            guard wantsReply, let sender = call.sender else { return }
            var reply: DBusMessage
            switch result {
            case .success(let body):
                reply = DBusMessage(kind: .methodReturn, destination: sender, body: body)
            case .failure(let error):
                reply = DBusMessage(kind: .error, destination: sender, body: [.string(error.message)])
                reply.errorName = error.name
            }
            reply.replySerial = call.serial
            reply.serial = takeSerial()
            try? send(reply)
        }
    }

    private func closed(_ why: String) {
        let (pending, subscribers) = state.withLockedValue { state in
            state.closed = why
            defer { state.pending = [:]; state.subscribers = [:] }
            return (Array(state.pending.values), Array(state.subscribers.values))
        }
        for waiter in pending { waiter.resume(throwing: DBusError.disconnected(why)) }
        for (_, subscriber) in subscribers { subscriber.finish() }
    }
}

/// Passes what the decoder made, and the channel's end, to the connection.
private final class InboundHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = DBusInbound
    enum Event { case line(String), message(DBusMessage), closed(String) }
    let deliver: @Sendable (Event) -> Void

    init(_ deliver: @escaping @Sendable (Event) -> Void) { self.deliver = deliver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .authLine(let line): deliver(.line(line))
        case .message(let message): deliver(.message(message))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliver(.closed("the bus closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        deliver(.closed("bad data from the bus: \(error)"))
        context.close(promise: nil)
    }
}

/// The parts of a match rule this side can check on a message by itself.
struct MatchRule: Sendable {
    var fields: [String: String] = [:]

    init(_ rule: String) {
        // key='value' pairs separated by commas; values here hold no quotes or commas.
        for pair in rule.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "' "))
        }
    }

    func matches(_ message: DBusMessage) -> Bool {
        if let type = fields["type"], type != "signal" { return false }
        if let interface = fields["interface"], interface != message.interface { return false }
        if let member = fields["member"], member != message.member { return false }
        if let path = fields["path"], path != message.path { return false }
        if let namespace = fields["path_namespace"], let path = message.path,
           !(path == namespace || path.hasPrefix(namespace == "/" ? "/" : namespace + "/")) { return false }
        // A well-known sender name is checked by the bus (messages carry the unique name).
        if let sender = fields["sender"], sender.hasPrefix(":"), sender != message.sender { return false }
        return true
    }
}
