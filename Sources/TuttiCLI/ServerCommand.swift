import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TuttiConfig
import TuttiServer
import TuttiSources

/// `tutti server`: serve one or more streams to speakers over Snapcast's binary protocol.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve streams to speakers (Snapcast protocol v2: snapclient and tutti speaker).",
        discussion: """
            Sources are Snapcast-style URIs: pipe:///tmp/snapfifo?name=default, \
            file:///music.wav?name=wav&loop=true, process:///usr/bin/prog?name=p&params=..., \
            tcp://0.0.0.0:4953?name=tcp&mode=server, tone://?name=tone&freq=440. Common options: \
            sampleformat=48000:16:2, codec=pcm, chunk_ms=20. Settings on the command line override \
            the config file; --source adds to the file's streams.
            """
    )

    @Option(name: .long, help: "TOML configuration file.")
    var config: String?

    @Option(name: .long, help: "A source URI (repeatable); the first stream is the default.")
    var source: [String] = []

    @Option(name: .customLong("buffer-ms"), help: "Playout buffer in ms (default 1000).")
    var bufferMs: Int?

    @Option(name: .long, help: "Address to listen on (default 0.0.0.0).")
    var bind: String?

    @Option(name: .customLong("stream-port"), help: "Port for speakers (default 1704).")
    var streamPort: Int?

    @Option(name: .customLong("control-port"), help: "JSON-RPC port, newline-delimited as Snapcast's (default 1705).")
    var controlPort: Int?

    @Option(name: .customLong("http-port"), help: "HTTP and WebSocket port: /jsonrpc, /metrics (default 1780).")
    var httpPort: Int?

    @Option(
        name: .customLong("data-dir"),
        help: "Directory for the state database and the token (default: /var/lib/tutti for root, else $XDG_STATE_HOME/tutti or ~/.local/state/tutti).")
    var dataDir: String?

    @Option(name: .customLong("trusted-network"), help: "A network (CIDR) whose control clients need no token, besides loopback (repeatable).")
    var trustedNetworks: [String] = []

    @Option(name: .customLong("media-dir"), help: "A directory whose files and FIFOs Stream.AddStream may open (repeatable).")
    var mediaDirs: [String] = []

    @OptionGroup var logging: LoggingOptions

    /// Merges the config file (if any) and the command line; throws a message for the user.
    func resolvedConfiguration() throws(ConfigurationError) -> ServerConfiguration {
        var file = ConfigFile()
        if let config {
            do {
                file = try ConfigFile.load(path: config)
            } catch {
                throw ConfigurationError(error.message)
            }
        }
        var sources: [SourceURI] = []
        for text in file.sourceURIs + source {
            do {
                sources.append(try SourceURI(parsing: text))
            } catch {
                throw ConfigurationError("\(error)")
            }
        }
        var configuration = ServerConfiguration(sources: sources)
        configuration.bufferMs = bufferMs ?? file.buffer_ms ?? configuration.bufferMs
        configuration.bindAddress = bind ?? file.bind ?? configuration.bindAddress
        configuration.streamPort = streamPort ?? file.stream_port ?? configuration.streamPort
        configuration.controlPort = controlPort ?? file.control_port ?? configuration.controlPort
        configuration.httpPort = httpPort ?? file.http_port ?? configuration.httpPort
        configuration.dataDirectory = dataDir ?? file.data_dir ?? Self.defaultDataDirectory()
        configuration.speakers = (file.speakers ?? [:]).mapValues { speaker in
            ServerConfiguration.SpeakerSettings(
                stream: speaker.stream, volume: speaker.volume ?? 100, muted: speaker.muted ?? false, latencyMs: speaker.latency_ms ?? 0)
        }
        configuration.trustedNetworks = (file.trusted_networks ?? []) + trustedNetworks
        configuration.mediaDirectories = (file.media_dirs ?? []) + mediaDirs
        configuration.token = file.token
        configuration.timeZone = file.time_zone
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ConfigurationError(problems.joined(separator: "\n")) }
        return configuration
    }

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try resolvedConfiguration()
        } catch {
            throw fail(error.message, code: 64)
        }
        let logger = logging.makeLogger(label: "tutti.server")
        try await Self.runUntilSignalled(TuttiServer(configuration: configuration, logger: logger), logger: logger)
    }

    /// Runs a server until SIGINT or SIGTERM, then shuts it down gracefully; a failure to start
    /// or to serve ends the command with its message.
    static func runUntilSignalled(_ server: TuttiServer, logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch let error as ServerError {
            throw fail("\(error)")
        } catch let error as ServiceGroupError {
            throw fail("\(error)")
        }
    }
}

extension ServerCommand {
    /// Where state lives when no `--data-dir` is given: `/var/lib/tutti` for root (a system
    /// service), else the user's state directory.
    static func defaultDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment, isRoot: Bool = geteuid() == 0) -> String {
        if isRoot { return "/var/lib/tutti" }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/tutti" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/tutti"
    }
}

/// A configuration problem, worded for the user.
struct ConfigurationError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
