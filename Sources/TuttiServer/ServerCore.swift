import Logging
import NIOCore
import TuttiTiming
import TuttiWire

/// The server's shared state on its event loop: streams by name, connected speakers, and the
/// per-speaker settings from the configuration and from what speakers report.
///
/// Confined to the event loop; every method asserts it.
final class ServerCore: @unchecked Sendable {
    let eventLoop: any EventLoop
    let bufferMs: Int
    var bufferNanos: Nanos { Nanos(bufferMs) * .nanosPerMillisecond }
    private let logger: Logger
    private var streams: [AudioStream] = []
    private var settings: [String: ServerConfiguration.SpeakerSettings]
    private var sessions: [ObjectIdentifier: SnapSession] = [:]

    init(eventLoop: any EventLoop, bufferMs: Int, speakers: [String: ServerConfiguration.SpeakerSettings], logger: Logger) {
        self.eventLoop = eventLoop
        self.bufferMs = bufferMs
        self.settings = speakers
        self.logger = logger
    }

    func addStream(_ stream: AudioStream) {
        eventLoop.preconditionInEventLoop()
        streams.append(stream)
    }

    /// A speaker said Hello: returns the stream it plays (its mapped stream, else the first)
    /// and the ServerSettings it gets.
    func sessionGreeted(_ session: SnapSession, hello: Hello) -> (AudioStream, ServerSettings) {
        eventLoop.preconditionInEventLoop()
        sessions[ObjectIdentifier(session)] = session
        let speaker = settings[hello.clientID] ?? ServerConfiguration.SpeakerSettings()
        let stream = speaker.stream.flatMap { name in streams.first { $0.name == name } } ?? streams[0]
        let serverSettings = ServerSettings(bufferMs: bufferMs, latency: speaker.latencyMs, volume: speaker.volume, muted: speaker.muted)
        return (stream, serverSettings)
    }

    /// A speaker changed its own volume or mute (ClientInfo); remembered for its next connection.
    func clientReported(_ info: ClientInfo, clientID: String) {
        eventLoop.preconditionInEventLoop()
        var speaker = settings[clientID] ?? ServerConfiguration.SpeakerSettings()
        speaker.volume = max(0, min(100, info.volume))
        speaker.muted = info.muted
        settings[clientID] = speaker
        logger.info("speaker '\(clientID)' reports volume \(speaker.volume), muted \(speaker.muted)")
    }

    func sessionEnded(_ session: SnapSession) {
        eventLoop.preconditionInEventLoop()
        sessions[ObjectIdentifier(session)] = nil
    }

    /// Connected, greeted speakers.
    var speakerCount: Int { sessions.count }
}
