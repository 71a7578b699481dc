import Logging
import NIOCore
import NIOPosix
import TuttiAudio
import TuttiSync
import TuttiTiming
import TuttiWire

/// One connection to a Snapcast-protocol server, from a speaker's side: Hello, clock sync,
/// settings, codec header and chunks. Runs on its channel's event loop.
///
/// Chunks that arrive before a CodecHeader are ignored (a real snapserver may send some before
/// ServerSettings). Time requests follow ``TimeSyncSchedule`` (every 10 ms by default);
/// each reply's four timestamps go to the ``ClockEstimator``, and so does every chunk's `sent`
/// stamp with its arrival (a one-way sample); once it is locked every new ``ClockMapping`` is
/// posted to the playout thread. A chunk that does not decode is logged
/// and skipped; the connection stays up.
final class SpeakerSession: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SnapFrame
    typealias OutboundOut = SnapFrame

    private let configuration: SpeakerConfiguration
    private let mailbox: PlayoutMailbox
    private let clock: any TimeSource
    private let arrival: ArrivalTime
    private let logger: Logger
    private let status: SpeakerStatus
    private let shared: SharedClockEstimate
    private let hostService: (any HostService)?
    private let notices: HostNotices?
    private var loop: (any EventLoop)?
    private var schedule = TimeSyncSchedule()
    private var decoder: (any AudioDecoder)?
    private var context: ChannelHandlerContext?
    private var pollTask: Scheduled<Void>?
    /// When `pollTask` fires (local clock).
    private var pollDue: Nanos?
    private var statusTask: RepeatedTask?
    private var statusInterval: Int?
    private var badChunks = 0
    private var lastTrace: Nanos = .min / 2
    private var timeChannel: TimeChannelState = .none

    init(
        configuration: SpeakerConfiguration, mailbox: PlayoutMailbox, clock: any TimeSource, arrival: ArrivalTime,
        estimate: SharedClockEstimate, status: SpeakerStatus, hostService: (any HostService)? = nil, notices: HostNotices? = nil,
        logger: Logger
    ) {
        self.notices = notices
        self.hostService = hostService
        self.configuration = configuration
        self.shared = estimate
        self.mailbox = mailbox
        self.clock = clock
        self.arrival = arrival
        self.status = status
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        self.loop = context.eventLoop
        if shared.estimator.isLocked, let mapping = shared.estimator.mapping {
            // Same server address: most likely the same clock (a restarted server, a dropped
            // link). Keep playing by the estimate; if the clock did change, the first
            // exchanges contradict it and the estimator starts over.
            logger.info("keeping the clock estimate of the previous connection (\(shared.estimator.quality.sampleCount) exchanges)")
            mailbox.post(mapping: mapping)
        }
        let hello = configuration.hello(hostCapabilities: hostService.map { ["rpc"] + $0.capabilities } ?? [])
        context.writeAndFlush(wrapOutboundOut(SnapFrame(id: 0, sent: TimeVal(nanoseconds: clock.now()), message: .hello(hello))), promise: nil)
        pollTimeSync()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        notices?.detach(self)
        pollTask?.cancel()
        pollTask = nil
        statusTask?.cancel()
        closeTimeChannel()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("closing the connection: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The read's arrival, stamped before any frame of it was decoded (t4 for Time replies).
        let now = arrival.latest != 0 ? arrival.latest : clock.now()
        let frame = unwrapInboundIn(data)
        switch frame.message {
        case .serverSettings(let settings):
            let playback = PlaybackSettings(
                bufferMs: settings.bufferMs, latencyMicroseconds: Self.latencyMicroseconds(settings),
                volume: settings.volume, trimDB: Self.trimDB(settings), muted: settings.muted, channel: Self.selection(settings.channel))
            var expected = playback
            expected.latencyMicroseconds += mailbox.extraLatencyMicroseconds
            if expected != mailbox.settings {
                logger.info("settings: buffer \(settings.bufferMs) ms, latency \(Double(playback.latencyMicroseconds) / 1000) ms, volume \(settings.volume)\(playback.trimDB < 0 ? " (trim \(playback.trimDB) dB)" : ""), muted \(settings.muted), channel \(settings.channel ?? "stereo")")
            }
            mailbox.post(serverSettings: playback)
            if settings.statusIntervalMs != nil, statusInterval == nil, let notices {
                // Only a Tutti server asks for status reports: it takes the host's notices too.
                for notice in notices.attach(self) { writeHostCall(notice) }
            }
            scheduleStatusReports(every: settings.statusIntervalMs)
            if let token = settings.timeToken { openTimeChannel(token: token) }
        case .codecHeader(let header):
            codecHeader(header)
        case .wireChunk(let chunk):
            // Its `sent` stamp is one more sample of the server-to-client delay.
            if case .accepted = shared.estimator.addOneWay(serverSent: frame.sent.nanoseconds, clientReceived: now),
                shared.estimator.isLocked, let mapping = shared.estimator.mapping
            {
                mailbox.post(mapping: mapping)
            }
            guard var decoder else { return }
            do {
                let samples = try chunk.data.withUnsafeReadableBytes { bytes throws(DecoderError) in try decoder.decode(bytes) }
                self.decoder = decoder
                mailbox.post(AudioChunk(serverTime: chunk.timestamp.nanoseconds, samples: samples, channels: decoder.format.channels))
            } catch {
                badChunks += 1
                if badChunks == 1 || badChunks % 100 == 0 { logger.warning("skipped \(badChunks) undecodable chunk(s): \(error)") }
            }
        case .time(let time):
            // Once the time channel runs, a late reply in the connection is not one of its requests.
            if case .open = timeChannel { return }
            timeReply(frame: frame, latency: time.latency, receivedAt: now)
        case .hostCall(let call):
            hostCall(call)
        case .hello, .clientInfo, .streamTags, .speakerStatus:
            logger.debug("ignoring \(frame.message.type) from the server")
        }
    }

    /// Answers the server's request on a task of its own (a pairing takes seconds; the audio
    /// and clock sync carry on), then writes the response on the channel's loop.
    private func hostCall(_ call: HostCall) {
        guard let context else { return }
        let service = hostService
        let loop = context.eventLoop
        Task {
            guard let response = await HostCalls.answer(call.json, with: service) else { return }
            loop.execute { [self] in writeHostCall(response) }
        }
    }

    /// Sends a host notice (from any thread) on this connection's loop.
    func sendHostNotice(_ json: String) {
        loop?.execute { [self] in writeHostCall(json) }
    }

    private func writeHostCall(_ json: String) {
        context?.writeAndFlush(wrapOutboundOut(SnapFrame(message: .hostCall(HostCall(json: json)))), promise: nil)
    }

    /// The channel a ServerSettings names; nil (play as is) for stereo or none.
    static func selection(_ channel: String?) -> ChannelSelection? {
        switch channel {
        case "left": .left
        case "right": .right
        case "mono": .mix
        default: nil
        }
    }

    /// Sends this speaker's status every `interval` ms to a server that asked for it (only a
    /// Tutti server does: a real snapserver would drop the connection on the unknown type).
    private func scheduleStatusReports(every interval: Int?) {
        guard interval != statusInterval, let context else { return }
        statusInterval = interval
        statusTask?.cancel()
        statusTask = nil
        guard let interval, interval >= 100 else { return }
        statusTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(interval)), delay: .milliseconds(Int64(interval))) { [self] _ in
            self.context?.writeAndFlush(wrapOutboundOut(SnapFrame(message: .speakerStatus(status.report))), promise: nil)
        }
    }

    private func codecHeader(_ header: CodecHeader) {
        do {
            let made = try StreamDecoders.make(codec: header.codec, header: Array(header.payload.readableBytesView))
            decoder = made
            logger.info("stream: \(header.codec) \(made.format)")
            mailbox.post(format: made.format)
        } catch {
            decoder = nil
            logger.error("cannot play this stream: \(error); staying silent until the codec changes")
        }
    }

    /// The server's level trim, dB: 0 when none was sent; never above 0 nor below −60.
    static func trimDB(_ settings: ServerSettings) -> Double {
        guard let trim = settings.trimDB, trim.isFinite else { return 0 }
        return max(-60, min(0, trim))
    }

    /// The server's latency in µs — its `latencyUs` if it sent one, else its whole ms — kept
    /// within ±60 s (what a peer sends is not trusted not to overflow).
    static func latencyMicroseconds(_ settings: ServerSettings) -> Int {
        let limit = 60_000_000
        if let microseconds = settings.latencyMicroseconds { return max(-limit, min(limit, microseconds)) }
        return max(-limit / 1000, min(limit / 1000, settings.latency)) * 1000
    }

    private func timeReply(frame: SnapFrame, latency: TimeVal, receivedAt: Nanos) {
        guard let sentAt = schedule.replyReceived(requestID: frame.refersTo, now: receivedAt) else { return }
        record(TimeExchange(clientSent: sentAt, clientToServer: latency.nanoseconds, serverSent: frame.sent.nanoseconds, clientReceived: receivedAt))
    }

    /// A reply on the time channel, stamped when its datagram was read.
    private func datagramReply(_ reply: TimeDatagram, receivedAt: Nanos) {
        guard case .open(var open) = timeChannel, reply.kind == .reply, reply.token == open.token,
              let sentAt = schedule.replyReceived(requestID: reply.id, now: receivedAt)
        else { return }
        if open.watch.lastReply == nil {
            logger.info("clock sync over the time channel (first reply after \((receivedAt - open.watch.since) / .nanosPerMillisecond) ms)")
            status.update(timeChannel: "datagram")
        }
        open.watch.lastReply = receivedAt
        timeChannel = .open(open)
        record(TimeExchange(clientSent: sentAt, clientToServer: reply.serverReceived - sentAt, serverSent: reply.serverSent, clientReceived: receivedAt))
    }

    private func record(_ exchange: TimeExchange) {
        let receivedAt = exchange.clientReceived
        let wasLocked = shared.estimator.isLocked
        let floorRises = shared.estimator.floorRises
        if shared.estimator.add(exchange) == .restarted {
            logger.notice("the server's clock jumped (a different server, or its clock was set): clock estimate restarted")
        }
        if shared.estimator.floorRises > floorRises {
            logger.notice("the network's delay rose by \(Double(shared.estimator.lastFloorRise) / 1e6) ms each way for good (a roam?): the clock estimate takes the new path in")
        }
        if shared.estimator.isLocked, let mapping = shared.estimator.mapping {
            mailbox.post(mapping: mapping)
            if !wasLocked {
                let quality = shared.estimator.quality
                logger.info("clock locked after \(quality.accepted) exchanges: offset ±\(quality.offsetStandardError / 1000) µs, rate \(String(format: "%+.1f", (shared.estimator.rate - 1) * 1e6)) ppm")
            }
        }
        status.update(estimator: shared.estimator)
        traceEstimate(at: receivedAt)
        pollTimeSync()
    }

    /// At debug level, once a second: the estimated server time at an instant of the host's
    /// CLOCK_MONOTONIC. When the server runs on the same host (a bench), the difference of the two
    /// is the estimator's true error — a diagnostic for the harness, never a measurement of sync.
    private func traceEstimate(at now: Nanos) {
        guard logger.logLevel <= .debug, now - lastTrace >= .nanosPerSecond, shared.estimator.isLocked else { return }
        lastTrace = now
        let host = MonotonicClock().now()
        guard let server = shared.estimator.serverTime(atLocal: clock.now()) else { return }
        let quality = shared.estimator.quality
        logger.debug("sync estimate: host \(host) server \(server) rate \(String(format: "%+.3f", (shared.estimator.rate - 1) * 1e6)) ppm σ \(quality.offsetStandardError) ns exchanges \(quality.sampleCount) one-way \(quality.oneWayAccepted)")
    }

    /// Sends a Time request if one is due, and makes sure a poll is scheduled for the next one.
    ///
    /// Called for every reply too (a reply may end a burst), so the timer is moved only when
    /// the next poll comes sooner than the one scheduled: a cancelled NIO task fails its promise,
    /// and doing that hundreds of times a second showed in the speaker's profile.
    private func pollTimeSync() {
        guard let context else { return }
        let now = clock.now()
        var action = schedule.poll(now: now, quality: shared.estimator.quality, isLocked: shared.estimator.isLocked)
        if case .send(let id) = action {
            if case .open(let open) = timeChannel {
                if let silence = open.watch.silence(at: now) {
                    logger.notice("\(silence) (UDP blocked on the way?): clock sync goes on in the stream connection")
                    closeTimeChannel(failed: true)
                    return pollTimeSync()
                }
                let request = TimeDatagram.request(id: id, token: open.token, sent: now).encoded(allocator: open.channel.allocator)
                open.channel.writeAndFlush(AddressedEnvelope(remoteAddress: open.server, data: request), promise: nil)
            } else {
                let request = SnapFrame(id: id, sent: TimeVal(nanoseconds: now), message: .time(TimeMessage()))
                context.writeAndFlush(wrapOutboundOut(request), promise: nil)
            }
            // It has just sent: now it says when the next one is due.
            action = schedule.poll(now: now, quality: shared.estimator.quality, isLocked: shared.estimator.isLocked)
        }
        let due = if case .wait(let until) = action { max(until, now + 1_000_000) } else { now + 1_000_000 }
        if pollTask != nil, let pollDue, pollDue <= due { return }
        pollTask?.cancel()
        pollDue = due
        pollTask = context.eventLoop.scheduleTask(in: .nanoseconds(due - now)) { [self] in
            pollTask = nil
            pollDue = nil
            pollTimeSync()
        }
    }
}

// MARK: The time channel

extension SpeakerSession {
    /// Where the connection's Time messages go.
    enum TimeChannelState {
        /// In the stream connection (a server that offers no time channel, a speaker told not
        /// to use it, or before its ServerSettings).
        case none
        /// Its datagram channel is being opened.
        case opening
        /// Over the time channel.
        case open(OpenTimeChannel)
        /// It was tried and nothing came back: the stream connection for this connection's life.
        case failed
    }

    struct OpenTimeChannel {
        var channel: any Channel
        /// Where requests go: the address the stream connection reached.
        var server: SocketAddress
        var token: UInt64
        var watch: TimeChannelWatch
    }

    /// Opens the time channel the server offered — requests go to the address this connection
    /// reached (through a relay, the relay's) — marks it DSCP EF, and moves the Time requests
    /// there. The socket is not connected: a server with several addresses may answer from
    /// another one, and the token, not the source address, says a reply is the server's.
    func openTimeChannel(token: UInt64) {
        guard configuration.timeDatagrams, case .none = timeChannel, let context, let remote = context.channel.remoteAddress else { return }
        timeChannel = .opening
        let receiver = TimeChannelReceiver(clock: clock) { [weak self] reply, receivedAt in self?.datagramReply(reply, receivedAt: receivedAt) }
        DatagramBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(receiver) }
            }
            .bind(host: remote.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard self.context != nil, case .opening = timeChannel else {
                        channel.close(promise: nil)
                        return
                    }
                    TimeDatagram.markExpedited(channel, ipv6: remote.protocol == .inet6).whenFailure { [logger] error in
                        logger.debug("time channel: no DSCP EF marking (\(error))")
                    }
                    timeChannel = .open(OpenTimeChannel(channel: channel, server: remote, token: token, watch: TimeChannelWatch(since: clock.now())))
                    schedule.switchChannel(to: .datagrams)
                    pollTimeSync()
                case .failure(let error):
                    logger.notice("cannot open the time channel to \(remote) (\(error)): clock sync stays in the stream connection")
                    timeChannel = .failed
                }
            }
    }

    /// Closes the time channel; Time requests go back to the stream connection.
    func closeTimeChannel(failed: Bool = false) {
        if case .open(let open) = timeChannel { open.channel.close(promise: nil) }
        let wasUsed: Bool = if case .open = timeChannel { true } else { false }
        timeChannel = failed ? .failed : .none
        status.update(timeChannel: "stream")
        if wasUsed { schedule.switchChannel(to: .init()) }
    }
}

/// Whether the time channel still answers: given up when no reply came within
/// ``givesUpAfter`` of its opening (UDP blocked on the way), or when replies stop for
/// ``givesUpAfterSilence`` while the stream connection lives on. Pure; local clock.
struct TimeChannelWatch: Equatable {
    /// When the channel opened, and the last reply's arrival.
    var since: Nanos
    var lastReply: Nanos?

    static let givesUpAfter: Nanos = 3 * .nanosPerSecond
    static let givesUpAfterSilence: Nanos = 15 * .nanosPerSecond

    /// Why the channel should be given up at `now`, or nil while it answers.
    func silence(at now: Nanos) -> String? {
        guard let lastReply else {
            return now - since > Self.givesUpAfter ? "no replies on the time channel in \(Self.givesUpAfter / .nanosPerSecond) s" : nil
        }
        return now - lastReply > Self.givesUpAfterSilence ? "the time channel stopped answering \(Self.givesUpAfterSilence / .nanosPerSecond) s ago" : nil
    }
}

/// Reads the time channel's replies: stamps each datagram's arrival first (t4), decodes it,
/// and hands it on; anything that is not a reply is dropped. On the session's event loop.
final class TimeChannelReceiver: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let clock: any TimeSource
    private let onReply: (TimeDatagram, Nanos) -> Void

    init(clock: any TimeSource, onReply: @escaping (TimeDatagram, Nanos) -> Void) {
        self.clock = clock
        self.onReply = onReply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let receivedAt = clock.now()
        guard let reply = try? TimeDatagram.decode(unwrapInboundIn(data).data) else { return }
        onReply(reply, receivedAt)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Not the channel's end: the session gives up on it when no reply comes.
    }
}

/// The speaker's clock estimate, kept from one connection to the next so that a reconnect to
/// the same server plays in sync at once instead of converging again from nothing.
///
/// Confined to the speaker's event loop: its one thread runs every session, one after another.
final class SharedClockEstimate: @unchecked Sendable {
    var estimator = ClockEstimator()
}
