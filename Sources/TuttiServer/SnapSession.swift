import Logging
import NIOCore
import TuttiTiming
import TuttiWire

/// One speaker connection speaking Snapcast's binary protocol: performs the actions of its
/// ``SessionStateMachine`` and keeps the speaker's own audio queue.
///
/// Runs on the server's event loop. Audio goes through a ``DueQueue``: while the socket is
/// writable chunks go straight out; when the speaker is slow or stuck, NIO stops accepting
/// (write-buffer watermarks) and chunks wait in the queue, where those too old to play are
/// dropped — for this speaker alone, so it never delays the others. Time replies skip that
/// queue and are stamped with the server clock just before they are handed to the socket.
final class SnapSession: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SnapFrame
    typealias OutboundOut = ByteBuffer

    private let core: ServerCore
    private let clock: any TimeSource
    private let arrival: ArrivalTime
    private var logger: Logger
    private var machine: SessionStateMachine
    private var context: ChannelHandlerContext?
    private var queue: DueQueue<ByteBuffer>
    private var nextMessageID: UInt16 = 0
    private var helloTimer: Scheduled<Void>?
    /// The stream this speaker plays, once greeted.
    private(set) var stream: AudioStream?
    private(set) var clientID: String?
    private(set) var muted = false

    init(core: ServerCore, clock: any TimeSource, arrival: ArrivalTime, logger: Logger) {
        self.core = core
        self.clock = clock
        self.arrival = arrival
        self.logger = logger
        self.machine = SessionStateMachine(connectedAt: clock.now())
        self.queue = DueQueue(horizon: core.bufferNanos)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        logger.debug("speaker connected")
        helloTimer = context.eventLoop.scheduleTask(in: .nanoseconds(SessionStateMachine.helloTimeout + 1_000_000)) { [self] in
            perform(machine.tick(now: clock.now()))
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Stamped when the read arrived, before decoding (t2 of a Time exchange).
        let receivedAt = arrival.latest != 0 ? arrival.latest : clock.now()
        perform(machine.frameReceived(unwrapInboundIn(data), receivedAt: receivedAt), receivedAt: receivedAt)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = (error as? WireError).map { "\($0)" } ?? "\(error)"
        perform(.close(reason: reason))
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.closed()
        helloTimer?.cancel()
        if let stream { stream.remove(self) }
        core.sessionEnded(self)
        logger.info("speaker disconnected")
        self.context = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        drain()
        context.fireChannelWritabilityChanged()
    }

    /// A new chunk of this speaker's stream (called by ``AudioStream/publish(_:sent:)``).
    func enqueue(_ chunk: PublishedChunk) {
        guard !muted else { return }
        queue.push(timestamp: chunk.timestamp, payload: chunk.frame, now: clock.now())
        drain()
    }

    /// Sends ServerSettings now (after a volume, latency or mute change).
    func sendSettings(_ settings: ServerSettings, refersTo: UInt16 = 0) {
        let wasMuted = muted
        muted = settings.muted
        if muted, !wasMuted { queue.removeAll() }
        write(SnapFrame(id: nextID(), refersTo: refersTo, message: .serverSettings(settings)).encoded(), flush: true)
    }

    private func perform(_ action: SessionStateMachine.Action, receivedAt: Nanos = 0) {
        switch action {
        case .none:
            break
        case .greet(let hello, let requestID):
            helloTimer?.cancel()
            greet(hello, requestID: requestID)
        case .replyTime(let requestID, let latency):
            let reply = SnapFrame(
                id: nextID(), refersTo: requestID, received: TimeVal(nanoseconds: receivedAt),
                message: .time(TimeMessage(latency: TimeVal(nanoseconds: latency))))
            var bytes = reply.encoded()
            bytes.stampSent(TimeVal(nanoseconds: clock.now()))
            write(bytes, flush: true)
        case .updateClient(let info):
            if let clientID { core.clientReported(info, clientID: clientID) }
        case .ignore(let reason):
            logger.debug("ignored: \(reason)")
        case .close(let reason):
            logger.warning("disconnecting speaker: \(reason)")
            machine.closed()
            context?.close(promise: nil)
        }
    }

    private func greet(_ hello: Hello, requestID: UInt16) {
        let id = hello.clientID
        clientID = id
        logger[metadataKey: "speaker"] = "\(id)"
        let (stream, settings) = core.sessionGreeted(self, hello: hello)
        self.stream = stream
        logger.info("speaker '\(hello.hostName)' (\(hello.clientName) \(hello.version)) joined stream '\(stream.name)'")
        sendSettings(settings, refersTo: requestID)
        write(stream.codecHeaderFrame, flush: true)
        let now = clock.now()
        if !muted {
            for chunk in stream.playableChunks(at: now) { queue.push(timestamp: chunk.timestamp, payload: chunk.frame, now: now) }
        }
        stream.add(self)
        drain()
    }

    private func drain() {
        guard let context, context.channel.isActive else { return }
        var wrote = false
        let now = clock.now()
        while context.channel.isWritable, let entry = queue.pop(now: now) {
            context.write(wrapOutboundOut(entry.payload), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
    }

    private func write(_ bytes: ByteBuffer, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(bytes), promise: nil)
        if flush { context.flush() }
    }

    private func nextID() -> UInt16 {
        defer { nextMessageID &+= 1 }
        return nextMessageID
    }
}
