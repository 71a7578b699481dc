import Logging
import NIOCore
import TuttiAudio
import TuttiControl
import TuttiTiming

/// The streaming side of the server, isolated to its event loop: streams by ID, the link of
/// every connected speaker, and what each link plays. It knows no wire format (links do) and
/// no groups (the control plane does): it is told what each speaker should play and does it.
///
/// An actor whose executor is the event loop, so channel handlers on that loop call into it
/// synchronously with `assumeIsolated` and the compiler checks every other access.
actor ServerCore {
    nonisolated let eventLoop: any EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }
    nonisolated let bufferMs: Int
    nonisolated var bufferNanos: Nanos { Nanos(bufferMs) * .nanosPerMillisecond }
    private let clock: any TimeSource
    /// The server's time now, as chunk timestamps are.
    nonisolated var now: Nanos { clock.now() }
    private let logger: Logger
    /// The tokens of connections the time channel answers (``TimeChannelResponder``).
    nonisolated let timeTokens = TimeChannelTokens()
    private var streams: [String: (stream: AudioStream, reader: StreamReader)] = [:]
    private var links: [String: LinkState] = [:]
    /// Where speaker events go (the control plane, on its own loop).
    private var report: @Sendable (SpeakerEvent) -> Void = { _ in }

    private struct LinkState {
        var link: any SpeakerLink
        var stream: AudioStream?
        var settings: LinkSettings?
    }

    /// What the core tells the control plane about speakers.
    enum SpeakerEvent: Sendable {
        case connected(SpeakerHello)
        case disconnected(id: String)
        case reported(id: String, volume: Int, muted: Bool)
        case status(id: String, SyncStatus)
        case streamStatus(id: String, playing: Bool)
        /// A speaker host's response to a relayed request.
        case hostAnswered(id: String, json: String)
    }

    init(eventLoop: any EventLoop, bufferMs: Int, clock: any TimeSource, logger: Logger) {
        self.eventLoop = eventLoop
        self.bufferMs = bufferMs
        self.clock = clock
        self.logger = logger
    }

    /// Connects the core to the control plane, and tells it which streams are playing already.
    func connect(report: @escaping @Sendable (SpeakerEvent) -> Void) {
        self.report = report
        for (id, entry) in streams where entry.reader.isPlaying { report(.streamStatus(id: id, playing: true)) }
    }

    /// The server is stopping: the control plane hears nothing more (its loop stops with this
    /// one, and an event posted to a stopped loop is an error in SwiftNIO), and every speaker's
    /// connection is closed.
    func disconnectAll() {
        report = { _ in }
        for state in links.values { state.link.close(reason: "the server is stopping") }
    }

    // MARK: Streams

    func addStream(_ stream: AudioStream, reader: StreamReader) {
        streams[stream.name] = (stream, reader)
    }

    /// Stops a stream's reader and forgets it. Its speakers were moved off it first.
    func removeStream(_ id: String) -> StreamReader? {
        streams.removeValue(forKey: id)?.reader
    }

    var streamIDs: [String] { Array(streams.keys) }

    /// A stream reader saw its source start or stop.
    nonisolated func streamStatusChanged(_ id: String, playing: Bool) {
        eventLoop.execute { self.assumeIsolated { $0.report(.streamStatus(id: id, playing: playing)) } }
    }

    // MARK: Links

    /// A link introduced its speaker. A connection that had the same speaker ID is closed:
    /// the newer one wins (a speaker that restarted before its old connection timed out).
    func linkGreeted(_ link: any SpeakerLink, hello: SpeakerHello) {
        if let old = links[hello.id]?.link, old !== link {
            old.close(reason: "speaker '\(hello.id)' connected again from \(hello.host.ip); this older connection is replaced")
            detach(hello.id)
        }
        links[hello.id] = LinkState(link: link)
        report(.connected(hello))
    }

    /// A link's connection ended. Only the current link of a speaker reports it gone.
    func linkClosed(_ link: any SpeakerLink) {
        guard let id = link.speakerID, let state = links[id], state.link === link else { return }
        detach(id)
        links[id] = nil
        report(.disconnected(id: id))
    }

    func linkReported(_ link: any SpeakerLink, volume: Int, muted: Bool) {
        guard let id = link.speakerID, links[id]?.link === link else { return }
        report(.reported(id: id, volume: volume, muted: muted))
    }

    func linkReportedStatus(_ link: any SpeakerLink, _ status: SyncStatus) {
        guard let id = link.speakerID, links[id]?.link === link else { return }
        report(.status(id: id, status))
    }

    func linkAnsweredHostCall(_ link: any SpeakerLink, _ json: String) {
        guard let id = link.speakerID, links[id]?.link === link else { return }
        report(.hostAnswered(id: id, json: json))
    }

    /// Sends a request to a speaker's host; false if it is not connected or takes none.
    func sendHostCall(to id: String, _ json: String) -> Bool {
        guard let link = links[id]?.link, link.capabilities.contains(Capability.rpc) else { return false }
        link.sendHostCall(json)
        return true
    }

    /// Makes every named speaker play as the control plane says: a new stream gets the stream's
    /// header and still-playable packets at once; new settings are sent; an unmuted speaker
    /// gets the still-playable packets too. Speakers not connected here are skipped.
    func apply(_ playback: [String: SpeakerPlayback]) {
        for (id, wanted) in playback.sorted(by: { $0.key < $1.key }) {
            guard var state = links[id] else { continue }
            let link = state.link
            let selfSelects = link.capabilities.contains(Capability.channel)
            let settings = LinkSettings(
                bufferMs: bufferMs, volume: wanted.volume, muted: wanted.muted, latencyMicroseconds: wanted.latencyMicroseconds,
                fineLatency: link.capabilities.contains(Capability.latencyMicroseconds),
                trimDB: link.capabilities.contains(Capability.trim) ? wanted.trimDB : nil,
                channel: selfSelects ? wanted.channel : nil,
                statusIntervalMs: link.capabilities.contains(Capability.status) ? 1000 : nil)
            guard let stream = stream(wanted.streamID, channel: selfSelects ? .stereo : wanted.channel) else {
                logger.error("speaker '\(id)' should play stream '\(wanted.streamID)', which is not running; it stays where it is")
                continue
            }
            let now = clock.now()
            if state.stream !== stream {
                state.stream?.remove(link)
                stream.add(link)
                link.play(stream, settings: settings, backlog: settings.muted ? [] : stream.playablePackets(at: now))
            } else if state.settings != settings {
                let unmuted = state.settings?.muted == true && !settings.muted
                link.update(settings, backlog: unmuted ? stream.playablePackets(at: now) : [])
            }
            state.stream = stream
            state.settings = settings
            links[id] = state
        }
    }

    private func detach(_ id: String) {
        guard let state = links[id] else { return }
        state.stream?.remove(state.link)
        links[id]?.stream = nil
    }

    /// A stream, or its channel variant (made on first use: its reader encodes the variant
    /// from then on, once for all speakers that need it).
    private func stream(_ id: String, channel: AudioChannel) -> AudioStream? {
        guard let (stream, reader) = streams[id] else { return nil }
        guard channel != .stereo, stream.format.channels > 1 else { return stream }
        if let variant = stream.variants[channel] { return variant }
        do {
            let variant = try reader.addVariant(channel)
            stream.variants[channel] = variant
            logger.info("stream '\(id)': encoding a \(channel.rawValue) variant for speakers that cannot choose a channel")
            return variant
        } catch {
            logger.error("stream '\(id)': cannot make a \(channel.rawValue) variant (\(error)); playing it in stereo")
            return stream
        }
    }
}

/// The names of Tutti's protocol extensions a speaker announces in its Hello.
enum Capability {
    /// The speaker plays the channel the server asks for (stereo pairs) itself.
    static let channel = "channel"
    /// The speaker reports its sync status when asked.
    static let status = "status"
    /// The speaker takes its latency to the µs (ServerSettings' `latencyUs`).
    static let latencyMicroseconds = "latency-us"
    /// The speaker applies a level trim under its volume (ServerSettings' `trimDb`).
    static let trim = "trim"
    /// The speaker's host answers relayed JSON-RPC requests (HostCall frames).
    static let rpc = "rpc"
    /// The speaker's host manages Bluetooth speakers (Bluetooth.* requests).
    static let bluetooth = "bluetooth"
}
