import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TuttiAudio
import TuttiControl
import TuttiSources
import TuttiStore
import TuttiTiming
import TuttiWire

/// `tutti server` as a ServiceLifecycle service: opens every source, serves speakers over
/// Snapcast's binary protocol, serves the control API (JSON-RPC on TCP, HTTP and WebSocket),
/// keeps the system's state in its store, and shuts down cleanly on graceful shutdown.
///
/// Two event loops: the audio loop runs every speaker session and stream (``ServerCore``), the
/// control loop runs the control plane (``ControlPlane``: model, store, API clients), so a
/// slow disk write never delays a chunk or a Time reply. Each source is read on a thread of
/// its own. Startup fails with a ``ServerError`` before anything plays if a source cannot be
/// opened, a port cannot be bound, or the state database cannot be used.
public final class TuttiServer: Service, Sendable {
    public let configuration: ServerConfiguration
    let logger: Logger
    let clock: any TimeSource
    let routineClock: any RoutineClock
    private let onListening: @Sendable (ServerPorts) -> Void

    /// - Parameters:
    ///   - clock: the server clock that stamps chunks and Time replies (monotonic by default).
    ///   - routineClock: the wall clock routines' times of day and waits run by.
    ///   - onListening: called with the bound ports once speakers and control clients can connect.
    public init(
        configuration: ServerConfiguration, logger: Logger, clock: any TimeSource = MonotonicClock(),
        routineClock: any RoutineClock = SystemRoutineClock(), onListening: @escaping @Sendable (ServerPorts) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.routineClock = routineClock
        self.onListening = onListening
    }

    public func run() async throws {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ServerError.invalidConfiguration(problems) }
        let lock = try prepareDataDirectory()
        defer { if let lock { close(lock) } }
        let store = try openStore()
        let access = AccessPolicy(
            token: try resolveToken(), trustedNetworks: configuration.trustedNetworks.compactMap { try? NetworkRange(parsing: $0) },
            trustLoopback: configuration.trustLoopback)
        let opened = try openConfiguredSources()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        var loops = group.makeIterator()
        let audioLoop = loops.next()!
        let controlLoop = loops.next()!
        let timeLoop = loops.next()!
        let core = ServerCore(eventLoop: audioLoop, bufferMs: configuration.bufferMs, clock: clock, logger: logger)
        var readers: [StreamReader] = []
        for (uri, source, encoder) in opened { readers.append(await makeStream(uri: uri, source: source, encoder: encoder, core: core)) }
        let streamHost = makeStreamHost(core: core)

        let (model, stored): (SystemModel, PersistentState)
        do {
            (model, stored) = try await restoreModel(store: store, streamHost: streamHost)
        } catch {
            await stop(readers: readers, core: core, channels: [], group: group)
            throw error
        }
        let metrics = ServerMetrics()
        let control = ControlPlane(
            eventLoop: controlLoop, model: model, store: store, stored: stored, api: ControlAPI(identity: Self.identity()),
            access: access, core: core, streams: streamHost, metrics: metrics, logger: logger, routineClock: routineClock,
            timeZone: configuration.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current)
        await core.connect { event in
            controlLoop.execute { control.assumeIsolated { $0.speakerEvent(event) } }
        }

        var channels: [any Channel] = []
        do {
            channels.append(try await bind(port: configuration.streamPort, what: "speakers") { try await bindSpeakers(group: audioLoop, core: core) })
            channels.append(try await bind(port: configuration.controlPort, what: "JSON-RPC") { try await bindControl(group: controlLoop, control: control) })
            if let time = await bindTimeChannel(group: timeLoop, port: channels[0].localAddress?.port ?? configuration.streamPort, tokens: core.timeTokens) {
                channels.append(time)
            }
        } catch {
            await stop(readers: readers, core: core, channels: channels, group: group)
            throw error
        }
        let http = HTTPControlServer(control: control, metrics: metrics, logger: logger)
        let (httpPorts, httpPort) = AsyncStream.makeStream(of: Int.self)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [configuration] in
                defer { httpPort.finish() }
                do {
                    try await http.run(group: controlLoop, host: configuration.bindAddress, port: configuration.httpPort) { httpPort.yield($0) }
                } catch {
                    throw ServerError.cannotListen(address: configuration.bindAddress, port: configuration.httpPort, reason: "HTTP: \(error)")
                }
            }
            var iterator = httpPorts.makeAsyncIterator()
            guard let boundHTTP = await iterator.next() else {
                await stop(readers: readers, core: core, channels: channels, group: group)
                try await tasks.waitForAll()  // rethrows why HTTP did not start
                return
            }
            let ports = ServerPorts(stream: channels[0].localAddress?.port ?? 0, control: channels[1].localAddress?.port ?? 0, http: boundHTTP)
            readers.forEach { $0.start() }
            logger.info("serving \(model.streams.count) stream(s) to speakers on \(configuration.bindAddress):\(ports.stream), buffer \(configuration.bufferMs) ms")
            for stream in model.streams { logger.info("stream '\(stream.id)': \(stream.uri)") }
            logger.info("control API: JSON-RPC on port \(ports.control), HTTP and WebSocket on port \(ports.http) (/jsonrpc, /metrics)")
            await control.startRoutines()
            onListening(ports)

            // Run until graceful shutdown (SIGINT/SIGTERM) or cancellation; HTTP stops with it.
            try? await gracefulShutdown()
            logger.info("shutting down")
            await control.stopRoutineTimes()
            await control.stopAndFlushStore()
            try? await tasks.waitForAll()
            await stop(readers: readers, core: core, channels: channels, group: group)
        }
    }

    private func stop(readers: [StreamReader], core: ServerCore, channels: [any Channel], group: MultiThreadedEventLoopGroup) async {
        for channel in channels { try? await channel.close() }
        await core.disconnectAll()
        readers.forEach { $0.stop() }
        for id in await core.streamIDs where !readers.contains(where: { $0.streamName == id }) { await core.removeStream(id)?.stop() }
        try? await group.shutdownGracefully()
    }

    /// Binds a listener, turning failure into ``ServerError/cannotListen(address:port:reason:)``.
    private func bind(port: Int, what: String, _ body: () async throws -> any Channel) async throws -> any Channel {
        do {
            return try await body()
        } catch {
            throw ServerError.cannotListen(address: configuration.bindAddress, port: port, reason: "\(what): \(error)")
        }
    }

    private func bindSpeakers(group: any EventLoop, core: ServerCore) async throws -> any Channel {
        let logger = self.logger
        let clock = self.clock
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 128 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let arrival = ArrivalTime()
                    try channel.pipeline.syncOperations.addHandler(ArrivalStamper(arrival: arrival) { clock.now() })
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SnapFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SnapSession(core: core, clock: clock, arrival: arrival, logger: logger))
                }
            }
            .bind(host: configuration.bindAddress, port: configuration.streamPort)
            .get()
    }

    /// The time channel: datagrams on the speakers' port number (``TimeChannelResponder``).
    /// Without it (the port is taken for UDP, the system refuses) speakers sync their clocks
    /// over their stream connection as Snapcast's do, so a failure is logged, not fatal.
    private func bindTimeChannel(group: any EventLoop, port: Int, tokens: TimeChannelTokens) async -> (any Channel)? {
        let logger = self.logger
        let clock = self.clock
        do {
            let channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TimeChannelResponder(tokens: tokens, clock: clock, logger: logger))
                    }
                }
                .bind(host: configuration.bindAddress, port: port)
                .get()
            let ipv6 = channel.localAddress?.protocol == .inet6
            if (try? await TimeDatagram.markExpedited(channel, ipv6: ipv6).get()) == nil {
                logger.debug("time channel: the system refused DSCP EF marking; replies go unmarked")
            }
            tokens.enable()
            return channel
        } catch {
            logger.warning("no time channel (UDP \(configuration.bindAddress):\(port): \(error)); speakers sync their clocks over their stream connections")
            return nil
        }
    }

    private func bindControl(group: any EventLoop, control: ControlPlane) async throws -> any Channel {
        let logger = self.logger
        let timeout = TimeAmount.nanoseconds(Int64(configuration.controlTimeoutSeconds * 1e9))
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlTCPSession(control: control, timeout: timeout, logger: logger))
                }
            }
            .bind(host: configuration.bindAddress, port: configuration.controlPort)
            .get()
    }

    /// Who the server says it is: Snapcast 0.26's API, this host.
    static func identity() -> ServerIdentity {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let system = withUnsafeBytes(of: info.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return ServerIdentity(host: HostInfo(name: ProcessInfo.processInfo.hostName, os: system, arch: machine))
    }
}

/// The ports a running server listens on (what was asked for, or what the OS picked for 0).
public struct ServerPorts: Sendable, Equatable {
    public var stream: Int
    public var control: Int
    public var http: Int
}

/// Why the server could not start.
public enum ServerError: Error, CustomStringConvertible {
    case invalidConfiguration([String])
    case sourceFailed(name: String, reason: String)
    case cannotListen(address: String, port: Int, reason: String)
    case dataDirectory(path: String, reason: String)
    case store(StoreError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problems): problems.joined(separator: "; ")
        case .sourceFailed(let name, let reason): "stream '\(name)': \(reason)"
        case .cannotListen(let address, let port, let reason): "cannot listen on \(address):\(port): \(reason)"
        case .dataDirectory(let path, let reason): "data directory \(path): \(reason)"
        case .store(let error): "\(error)"
        }
    }
}
