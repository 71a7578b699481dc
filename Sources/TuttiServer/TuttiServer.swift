import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TuttiAudio
import TuttiSources
import TuttiTiming
import TuttiWire

/// `tutti server` as a ServiceLifecycle service: opens every source, serves speakers over
/// Snapcast's binary protocol, and shuts down cleanly on graceful shutdown (SIGINT/SIGTERM).
///
/// One event loop serves all sessions and streams, so their shared state needs no locks;
/// each source is read on a thread of its own. Startup fails with a ``ServerError`` before
/// anything plays if a source cannot be opened or the stream port cannot be bound.
public final class TuttiServer: Service, Sendable {
    public let configuration: ServerConfiguration
    private let logger: Logger
    private let clock: any TimeSource
    private let onListening: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - clock: the server clock that stamps chunks and Time replies (monotonic by default).
    ///   - onListening: called with the bound stream port once speakers can connect.
    public init(configuration: ServerConfiguration, logger: Logger, clock: any TimeSource = MonotonicClock(), onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.onListening = onListening
    }

    public func run() async throws {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ServerError.invalidConfiguration(problems) }
        try prepareDataDirectory()
        let sources = try openSources()
        let encoders: [any AudioEncoder]
        do {
            encoders = try zip(configuration.sources, sources).map { uri, source in
                // A file's own format is known only now that it is open.
                if let problem = StreamEncoders.problem(codec: uri.codec, format: source.format) {
                    throw ServerError.sourceFailed(name: uri.name, reason: problem)
                }
                do {
                    return try StreamEncoders.make(codec: uri.codec, format: source.format)
                } catch {
                    throw ServerError.sourceFailed(name: uri.name, reason: "\(error)")
                }
            }
        } catch {
            sources.forEach { $0.close() }
            throw error
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let core = ServerCore(eventLoop: loop, bufferMs: configuration.bufferMs, speakers: configuration.speakers, logger: logger)
        let readers = try await loop.submit { [configuration, logger, clock] in
            zip(zip(configuration.sources, sources), encoders).map { pair, encoder in
                let (uri, source) = pair
                let stream = AudioStream(
                    name: uri.name, format: source.format, codecName: encoder.codecName, codecHeader: encoder.header,
                    bufferMs: configuration.bufferMs, eventLoop: loop)
                core.addStream(stream)
                return StreamReader(source: source, chunkMilliseconds: uri.chunkMilliseconds, stream: stream, encoder: encoder, clock: clock, logger: logger)
            }
        }.get()

        let channel: any Channel
        do {
            channel = try await bind(group: group, core: core)
        } catch {
            sources.forEach { $0.close() }
            try? await group.shutdownGracefully()
            throw ServerError.cannotListen(address: configuration.bindAddress, port: configuration.streamPort, reason: "\(error)")
        }
        readers.forEach { $0.start() }
        let port = channel.localAddress?.port ?? configuration.streamPort
        logger.info("serving \(configuration.sources.count) stream(s) to speakers on \(configuration.bindAddress):\(port), buffer \(configuration.bufferMs) ms")
        for source in configuration.sources { logger.info("stream '\(source.name)': \(source.text)") }
        logger.notice("JSON-RPC (port \(configuration.controlPort)) and HTTP (port \(configuration.httpPort)) are not served yet")
        onListening(port)

        // Run until graceful shutdown (SIGINT/SIGTERM) or cancellation.
        try? await gracefulShutdown()
        logger.info("shutting down")
        readers.forEach { $0.stop() }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    private func bind(group: MultiThreadedEventLoopGroup, core: ServerCore) async throws -> any Channel {
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

    private func openSources() throws -> [any PCMSource] {
        var opened: [any PCMSource] = []
        for uri in configuration.sources {
            do {
                opened.append(try SourceFactory.open(uri, allowProcess: true, logger: logger))
            } catch {
                opened.forEach { $0.close() }
                throw ServerError.sourceFailed(name: uri.name, reason: "\(error)")
            }
        }
        return opened
    }

    private func prepareDataDirectory() throws {
        guard let path = configuration.dataDirectory else { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ServerError.dataDirectory(path: path, reason: error.localizedDescription)
        }
    }
}

/// Why the server could not start.
public enum ServerError: Error, CustomStringConvertible {
    case invalidConfiguration([String])
    case sourceFailed(name: String, reason: String)
    case cannotListen(address: String, port: Int, reason: String)
    case dataDirectory(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problems): problems.joined(separator: "; ")
        case .sourceFailed(let name, let reason): "stream '\(name)': \(reason)"
        case .cannotListen(let address, let port, let reason): "cannot listen on \(address):\(port): \(reason)"
        case .dataDirectory(let path, let reason): "data directory \(path): \(reason)"
        }
    }
}
