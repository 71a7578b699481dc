import Logging
import NIOCore
import TuttiControl

/// One JSON-RPC client on the control port (1705): newline-delimited JSON-RPC 2.0, every
/// message — response or notification — ending in `\r\n` as Snapcast's server writes it.
///
/// Runs on the control event loop, where ``ControlPlane`` is isolated. Limits, so that a bad
/// or slow client harms nobody else:
/// - a message longer than ``ControlLimits/maxMessageBytes`` is answered with -32002 and the
///   connection closed;
/// - a client that sends no complete message within the timeout (10 s by default) of
///   connecting, or leaves a message unfinished that long, is disconnected (an idle client
///   that has spoken — Home Assistant waiting for notifications — stays);
/// - notifications queue in the socket; past ``ControlLimits/maxPendingBytes`` unread bytes
///   the client is disconnected instead of making the server hold more.
final class ControlTCPSession: ChannelInboundHandler, ControlClient, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let control: ControlPlane
    private var logger: Logger
    private var channel: (any Channel)?
    private var inbound = ByteBuffer()
    private var hasSpoken = false
    private var timer: Scheduled<Void>?
    private var pendingBytes = 0
    /// Requests run one after another, in the order they came.
    private var tail: Task<Void, Never>?

    private let timeout: TimeAmount

    init(control: ControlPlane, timeout: TimeAmount = ControlLimits.firstMessageTimeout, logger: Logger) {
        self.control = control
        self.timeout = timeout
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        logger[metadataKey: "control-peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        let trusted = control.access.isTrusted(context.remoteAddress)
        control.assumeIsolated { $0.register(self, trusted: trusted) }
        logger.debug("control client connected (\(trusted ? "trusted" : "needs a token"))")
        armTimer(context, messageCompleted: false)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        control.assumeIsolated { $0.unregister(self) }
        channel = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        var completed = false
        while let newline = inbound.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - inbound.readerIndex
            var line = inbound.readBytes(length: length) ?? []
            inbound.moveReaderIndex(forwardBy: 1)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            guard line.count <= ControlLimits.maxMessageBytes else { return refuseOversized(context) }
            hasSpoken = true
            completed = true
            run(line)
        }
        inbound.discardReadBytes()
        if inbound.readableBytes > ControlLimits.maxMessageBytes { return refuseOversized(context) }
        armTimer(context, messageCompleted: completed)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("control client error: \(error)")
        context.close(promise: nil)
    }

    // MARK: ControlClient

    func send(_ text: String) {
        guard let channel else { return }
        if !channel.eventLoop.inEventLoop {
            channel.eventLoop.execute { self.send(text) }
            return
        }
        var buffer = channel.allocator.buffer(capacity: text.utf8.count + 2)
        buffer.writeString(text)
        buffer.writeString("\r\n")
        let size = buffer.readableBytes
        pendingBytes += size
        guard pendingBytes <= ControlLimits.maxPendingBytes else {
            disconnect(reason: "more than \(ControlLimits.maxPendingBytes) bytes of notifications unread")
            return
        }
        channel.writeAndFlush(buffer).whenComplete { [self] _ in pendingBytes -= size }
    }

    func disconnect(reason: String) {
        guard let channel else { return }
        logger.warning("disconnecting control client: \(reason)")
        channel.close(promise: nil)
    }

    // MARK: Internals

    private func run(_ line: [UInt8]) {
        let previous = tail
        let control = self.control
        tail = Task { [self] in
            await previous?.value
            await control.handle(line, from: self) { [self] in send($0) }
        }
    }

    private func refuseOversized(_ context: ChannelHandlerContext) {
        inbound.clear()
        send(JSONRPC.response(id: .null, error: .tooLarge(limit: ControlLimits.maxMessageBytes)).text)
        disconnect(reason: "a message longer than \(ControlLimits.maxMessageBytes) bytes")
    }

    /// Closes a client that has not sent a whole message yet, or has left one unfinished: the
    /// clock starts with the message's first byte and more bytes do not reset it (a client
    /// that trickles is timed out too).
    private func armTimer(_ context: ChannelHandlerContext, messageCompleted: Bool) {
        let waiting = !hasSpoken || inbound.readableBytes > 0
        if !waiting || messageCompleted {
            timer?.cancel()
            timer = nil
        }
        guard waiting, timer == nil else { return }
        let reason = hasSpoken ? "a message left unfinished" : "no request"
        timer = context.eventLoop.scheduleTask(in: timeout) { [self] in
            disconnect(reason: "\(reason) for \(Double(timeout.nanoseconds) / 1e9) s")
        }
    }
}

/// The control API's limits, the same on every transport.
enum ControlLimits {
    /// The largest request (one line on TCP, one body or WebSocket message): 64 KiB, room for
    /// a batch of hundreds of calls.
    static let maxMessageBytes = 64 * 1024
    /// How long a new client may take to send its first whole message, and a started message
    /// to be finished.
    static let firstMessageTimeout: TimeAmount = .seconds(10)
    /// Notifications a client may leave unread before it is disconnected: 1 MiB.
    static let maxPendingBytes = 1 << 20
}
