import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import TuttiTiming
import TuttiControl
import TuttiWire

/// `tutti speaker` as a ServiceLifecycle service: keeps a connection to the server (any
/// Snapcast-protocol server) and plays in sync on one output.
///
/// Never exits on a network error: a refused or lost connection is logged and retried with
/// backoff (250 ms doubling to 5 s), while the output keeps running, silent once its buffer is
/// spent. Shuts down on graceful shutdown, finalizing the output (a WAV file's header).
public final class TuttiSpeaker: Service, Sendable {
    public let configuration: SpeakerConfiguration
    private let logger: Logger
    private let clock: SkewedClock<MonotonicClock>
    private let hostService: (any HostService)?
    private let mailbox = PlayoutMailbox()
    private let current = NIOLockedChannel()
    private let stopped = NIOLockedValueBox(false)
    private let notices = HostNotices()

    /// - Parameter hostService: what this host answers the server besides playing (its
    ///   Bluetooth speakers); nil for a plain speaker.
    public init(configuration: SpeakerConfiguration, hostService: (any HostService)? = nil, logger: Logger) {
        self.configuration = configuration
        self.hostService = hostService
        mailbox.extraLatencyMicroseconds = configuration.latencyMs * 1000
        self.logger = logger
        self.clock = SkewedClock(
            base: MonotonicClock(), offset: Nanos(configuration.clockOffsetSeconds * 1e9), ppm: configuration.clockDriftPPM,
            step: configuration.clockStep.map { (after: Nanos($0.afterSeconds * 1e9), by: Nanos($0.bySeconds * 1e9)) })
    }

    /// Changes this output path's own latency (ms, on top of the server's setting) while it
    /// plays: a Bluetooth speaker's reported delay as it wanders. Small changes are slewed.
    public func setExtraLatency(milliseconds: Int) {
        mailbox.extraLatencyMicroseconds = milliseconds * 1000
    }

    /// Tells the server something about this host unasked (a JSON-RPC notification, e.g.
    /// `Host.Exclusions`): now, if connected to a Tutti server, and again on every reconnection
    /// until replaced by the next of the same `method`.
    public func publishHostNotice(method: String, params: JSON) {
        let notice: JSON = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        notices.publish(method: method, notice.text)
    }

    /// The buffer the server asked for (ms); 0 until its first settings arrive.
    public var bufferMs: Int { mailbox.settings.bufferMs }

    /// Ends `run()`: closes the connection and the output (a Bluetooth speaker that went away).
    public func stop() {
        stopped.withLockedValue { $0 = true }
        current.closeAndForget()
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

    public func run() async throws {
        let mailbox = self.mailbox
        let status = SpeakerStatus()
        let engine = PlaybackEngine(outputSpec: configuration.output, clock: clock, mailbox: mailbox, status: status, logger: logger)
        engine.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let current = self.current
        let estimate = SharedClockEstimate()
        logger.info("speaker '\(configuration.id)' → \(configuration.host):\(configuration.port), output \(configuration.output)")
        if configuration.clockOffsetSeconds != 0 || configuration.clockDriftPPM != 0 || configuration.clockStep != nil {
            let step = configuration.clockStep.map { ", stepping by \($0.bySeconds) s after \($0.afterSeconds) s" } ?? ""
            logger.notice("simulated clock: offset \(configuration.clockOffsetSeconds) s, drift \(configuration.clockDriftPPM) ppm\(step)")
        }

        await withGracefulShutdownHandler {
            var backoff: Double = 0.25
            while !Task.isCancelled, !Task.isShuttingDownGracefully, !isStopped {
                let started = Date()
                do {
                    let channel = try await connect(group: group, mailbox: mailbox, estimate: estimate, status: status)
                    current.set(channel)
                    if isStopped { channel.close(promise: nil) }  // stopped while connecting
                    logger.info("connected to \(configuration.host):\(configuration.port)")
                    try? await channel.closeFuture.get()
                    current.set(nil)
                    if !Task.isShuttingDownGracefully { logger.warning("connection to the server lost; reconnecting") }
                } catch {
                    logger.warning("cannot reach \(configuration.host):\(configuration.port): \(error); retrying in \(backoff) s")
                }
                if Date().timeIntervalSince(started) > 10 { backoff = 0.25 }
                guard !Task.isShuttingDownGracefully, !isStopped else { break }
                try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(5, backoff * 2)
            }
        } onGracefulShutdown: {
            current.closeAndForget()
        }
        engine.stop()
        let final = status.snapshot
        logger.notice("""
            final status: clock \(final.locked ? "locked" : "not locked"), server clock rate \(String(format: "%+.2f", final.ratePPM)) ppm \
            relative to this speaker, offset uncertainty ±\(String(format: "%.1f", final.offsetErrorMicroseconds)) µs, \
            \(final.exchanges) time exchanges, \(final.hardSyncs) hard syncs, \(final.underruns) underruns
            """)
        try? await group.shutdownGracefully()
    }

    private func connect(
        group: MultiThreadedEventLoopGroup, mailbox: PlayoutMailbox, estimate: SharedClockEstimate, status: SpeakerStatus
    ) async throws -> any Channel {
        let configuration = self.configuration
        let clock = self.clock
        let logger = self.logger
        let hostService = self.hostService
        let notices = self.notices
        return try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let arrival = ArrivalTime()
                    try channel.pipeline.syncOperations.addHandler(ArrivalStamper(arrival: arrival) { clock.now() })
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SnapFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SnapFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        SpeakerSession(
                            configuration: configuration, mailbox: mailbox, clock: clock, arrival: arrival, estimate: estimate,
                            status: status, hostService: hostService, notices: notices, logger: logger))
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .get()
    }
}

/// The channel of the current connection, closable from the shutdown handler.
final class NIOLockedChannel: Sendable {
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)

    func set(_ value: (any Channel)?) { channel.withLockedValue { $0 = value } }

    func closeAndForget() { channel.withLockedValue { $0?.close(promise: nil) } }
}
