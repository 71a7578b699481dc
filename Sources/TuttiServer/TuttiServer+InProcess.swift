import Logging
import ServiceLifecycle

extension TuttiServer {
    /// Runs a server in this process around `body`, which gets the bound stream port (ask for
    /// port 0 to let the OS pick one), then shuts the server down gracefully.
    ///
    /// For the demo, the benchmarks and tests. If the server cannot start (a source fails, the
    /// port is taken), its ``ServerError`` is thrown and `body` never runs.
    public static func withRunning<T: Sendable>(
        _ configuration: ServerConfiguration, logger: Logger, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        try await withRunningServer(configuration, logger: logger) { ports in try await body(ports.stream) }
    }

    /// Like ``withRunning(_:logger:_:)``, with every port the server bound (speakers, JSON-RPC, HTTP).
    public static func withRunningServer<T: Sendable>(
        _ configuration: ServerConfiguration, logger: Logger, routineClock: any RoutineClock = SystemRoutineClock(),
        _ body: @Sendable (_ ports: ServerPorts) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: ServerPorts.self)
        let server = TuttiServer(configuration: configuration, logger: logger, routineClock: routineClock) { continuation.yield($0) }
        let group = ServiceGroup(services: [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.waitForAll()  // rethrows why the server stopped
                throw CancellationError()
            }
            do {
                let result = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
