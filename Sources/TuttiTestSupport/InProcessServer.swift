import Logging
import TuttiServer
import TuttiSources

/// Runs a `TuttiServer` in this process on an OS-chosen port for the duration of `body`,
/// capturing its log, then shuts it down gracefully.
public func withServer<T: Sendable>(
    sources: [String] = ["tone://?name=default&freq=440&codec=pcm"],
    bufferMs: Int = 1000,
    speakers: [String: ServerConfiguration.SpeakerSettings] = [:],
    _ body: @Sendable (_ port: Int, _ log: LogCapture) async throws -> T
) async throws -> T {
    let capture = LogCapture()
    let logger = capture.logger(label: "tutti.server")
    var configuration = ServerConfiguration(sources: try sources.map { try SourceURI(parsing: $0) })
    configuration.bindAddress = "127.0.0.1"
    configuration.streamPort = 0
    configuration.controlPort = 0
    configuration.httpPort = 0
    configuration.bufferMs = bufferMs
    configuration.speakers = speakers
    return try await TuttiServer.withRunning(configuration, logger: logger) { port in try await body(port, capture) }
}

/// Like ``withServer(sources:bufferMs:speakers:_:)``, with every port and a chance to change
/// the configuration (data directory, token, trusted networks, timeouts) first.
public func withServerPorts<T: Sendable>(
    sources: [String] = ["tone://?name=default&freq=440&codec=pcm"],
    configure: (inout ServerConfiguration) -> Void = { _ in },
    routineClock: any RoutineClock = SystemRoutineClock(),
    _ body: @Sendable (_ ports: ServerPorts, _ log: LogCapture) async throws -> T
) async throws -> T {
    let capture = LogCapture()
    var configuration = ServerConfiguration(sources: try sources.map { try SourceURI(parsing: $0) })
    configuration.bindAddress = "127.0.0.1"
    configuration.streamPort = 0
    configuration.controlPort = 0
    configuration.httpPort = 0
    configure(&configuration)
    return try await TuttiServer.withRunningServer(configuration, logger: capture.logger(label: "tutti.server"), routineClock: routineClock) { ports in
        try await body(ports, capture)
    }
}
