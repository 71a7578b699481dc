import Logging
import NIOCore
import TuttiControl
import TuttiTiming
import TuttiWire

/// One speaker connection speaking Snapcast's binary protocol: the Snapcast adapter of
/// ``SpeakerLink``. Performs the actions of its ``SessionStateMachine`` and keeps the
/// speaker's own audio queue.
///
/// Runs on the server's event loop, where ``ServerCore`` is isolated. After a Hello the
/// session waits for the core to say what to play (``play(_:settings:backlog:)``), then
/// sends ServerSettings (answering the Hello), the CodecHeader and the still-playable chunks.
/// Audio goes through a ``DueQueue``: while the socket is writable chunks go straight out;
/// when the speaker is slow or stuck, NIO stops accepting (write-buffer watermarks) and chunks
/// wait in the queue, where those too old to play are dropped — for this speaker alone. Time
/// replies skip that queue and are stamped with the server clock just before they are handed
/// to the socket.
final class SnapSession: ChannelInboundHandler, SpeakerLink, @unchecked Sendable {
    typealias InboundIn = SnapFrame
    typealias OutboundOut = ByteBuffer

    private let core: ServerCore
    private let clock: any TimeSource
    private let arrival: ArrivalTime
    private var logger: Logger
    private var machine: SessionStateMachine
    private var context: ChannelHandlerContext?
    /// Encoded WireChunk frames (shared with the stream's other sessions) and when they were
    /// published.
    private var queue: DueQueue<(frame: ByteBuffer, sent: Nanos)>
    private var nextMessageID: UInt16 = 0
    private var helloTimer: Scheduled<Void>?
    /// The Hello's request ID, answered by the first ServerSettings.
    private var helloRequestID: UInt16?
    private var settings: LinkSettings?
    private(set) var speakerID: String?
    private(set) var capabilities: [String] = []
    /// This connection's time-channel token (a Tutti speaker that can use the channel, on a
    /// server that runs it), sent in every ServerSettings; revoked when the connection ends.
    private var timeToken: UInt64?

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
        if let timeToken { core.timeTokens.revoke(timeToken) }
        timeToken = nil
        core.assumeIsolated { $0.linkClosed(self) }
        logger.info("speaker disconnected")
        self.context = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        drain()
        context.fireChannelWritabilityChanged()
    }

    // MARK: SpeakerLink

    func play(_ stream: AudioStream, settings: LinkSettings, backlog: ArraySlice<StreamPacket>) {
        send(settings)
        queue.removeAll()
        write(SnapFrame(message: .codecHeader(CodecHeader(codec: stream.codecName, payload: ByteBuffer(bytes: stream.codecHeader)))).encoded(), flush: true)
        logger.info("playing stream '\(stream.name)' (\(stream.codecName) \(stream.format))")
        enqueue(backlog)
    }

    func update(_ settings: LinkSettings, backlog: ArraySlice<StreamPacket>) {
        send(settings)
        enqueue(backlog)
    }

    func deliver(_ packet: StreamPacket) {
        guard settings?.muted == false else { return }
        queue.push(timestamp: packet.timestamp, payload: (packet.framed(SnapSession.self, make: Self.frame), packet.sent), now: clock.now())
        drain()
    }

    func close(reason: String) { perform(.close(reason: reason)) }

    func sendHostCall(_ json: String) {
        write(SnapFrame(id: nextID(), message: .hostCall(HostCall(json: json))).encoded(), flush: true)
    }

    /// A packet as a Snapcast WireChunk frame (header `sent` = when it was published).
    private static func frame(_ packet: StreamPacket) -> ByteBuffer {
        let chunk = WireChunk(timestamp: TimeVal(nanoseconds: packet.timestamp), data: packet.payload)
        return SnapFrame(sent: TimeVal(nanoseconds: packet.sent), message: .wireChunk(chunk)).encoded()
    }

    // MARK: Actions

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
            core.assumeIsolated { $0.linkReported(self, volume: info.volume, muted: info.muted) }
        case .status(let report):
            let status = SyncStatus(
                locked: report.locked, clockErrorMicroseconds: report.clockErrorUs, ratePPM: report.ratePpm, bufferMs: report.bufferMs,
                outputDelayMs: report.outputDelayMs, underruns: report.underruns, hardSyncs: report.hardSyncs,
                playoutErrorMicroseconds: report.playoutErrorUs, timeChannel: report.timeChannel)
            core.assumeIsolated { $0.linkReportedStatus(self, status) }
        case .hostCall(let json):
            core.assumeIsolated { $0.linkAnsweredHostCall(self, json) }
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
        speakerID = id
        helloRequestID = requestID
        capabilities = hello.capabilities
        if hello.capabilities.contains(TimeDatagram.capability) { timeToken = core.timeTokens.issue() }
        logger[metadataKey: "speaker"] = "\(id)"
        logger.info("speaker '\(hello.hostName)' (\(hello.clientName) \(hello.version)) said hello")
        let address = context?.remoteAddress?.ipAddress ?? ""
        let speaker = SpeakerHello(
            id: id, host: HostInfo(name: hello.hostName, mac: hello.mac, ip: address, os: hello.os, arch: hello.arch),
            software: SoftwareInfo(name: hello.clientName, version: hello.version, protocolVersion: hello.protocolVersion),
            instance: hello.instance, capabilities: hello.capabilities)
        core.assumeIsolated { $0.linkGreeted(self, hello: speaker) }
    }

    /// Sends ServerSettings (the first answers the Hello) and remembers what the speaker has.
    private func send(_ new: LinkSettings) {
        let wasMuted = settings?.muted ?? false
        let message = ServerSettings(
            bufferMs: new.bufferMs, latency: Speaker.wholeMilliseconds(new.latencyMicroseconds),
            latencyMicroseconds: new.fineLatency ? new.latencyMicroseconds : nil, trimDB: new.trimDB, volume: new.volume, muted: new.muted,
            channel: new.channel?.rawValue, statusIntervalMs: new.statusIntervalMs, timeToken: timeToken)
        write(SnapFrame(id: nextID(), refersTo: helloRequestID ?? 0, message: .serverSettings(message)).encoded(), flush: true)
        helloRequestID = nil
        settings = new
        if new.muted, !wasMuted { queue.removeAll() }
    }

    private func enqueue(_ packets: ArraySlice<StreamPacket>) {
        guard settings?.muted == false, !packets.isEmpty else { return }
        let now = clock.now()
        for packet in packets { queue.push(timestamp: packet.timestamp, payload: (packet.framed(SnapSession.self, make: Self.frame), packet.sent), now: now) }
        drain()
    }

    /// Writes queued chunks while the socket takes them. A chunk that was published a while
    /// ago — the backlog a joining, switching or unmuted speaker gets, or a chunk that waited
    /// for a slow socket — is stamped anew with the time it is written: its `sent` is one more
    /// sample of the transit time for a Tutti speaker's clock estimate, and a stale one would
    /// mislead it. Fresh chunks keep the frame they share with the stream's other sessions.
    private func drain() {
        guard let context, context.channel.isActive else { return }
        var wrote = false
        let now = clock.now()
        while context.channel.isWritable, let entry = queue.pop(now: now) {
            var frame = entry.payload.frame
            if now - entry.payload.sent > Self.restampAfter { frame.stampSent(TimeVal(nanoseconds: now)) }
            context.write(wrapOutboundOut(frame), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
    }

    /// How old a chunk's `sent` stamp may be when it is written before it is stamped anew.
    static let restampAfter: Nanos = 2 * .nanosPerMillisecond

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
