import TuttiControl
import TuttiTiming

/// A connected speaker as the server's core sees it, whatever protocol it speaks: it can be
/// told to play a stream, to take new settings, and handed packets. The Snapcast v2 session
/// (``SnapSession``) is one adapter; another protocol is another adapter of this, not a change
/// to streams, groups or the control plane.
///
/// Called on the server's event loop only.
protocol SpeakerLink: AnyObject {
    /// The speaker's ID once it has introduced itself.
    var speakerID: String? { get }
    /// What the speaker said it can do (Tutti's extensions), from its introduction.
    var capabilities: [String] { get }

    /// Switches to `stream`: the link sends what its protocol needs to start it (settings
    /// first, then the stream's header) and then `backlog`, the stream's still-playable packets.
    func play(_ stream: AudioStream, settings: LinkSettings, backlog: ArraySlice<StreamPacket>)
    /// New settings for the same stream; `backlog` is non-empty when the speaker was just
    /// unmuted (it gets what is still playable at once).
    func update(_ settings: LinkSettings, backlog: ArraySlice<StreamPacket>)
    /// A new packet of the stream it plays.
    func deliver(_ packet: StreamPacket)
    /// Ends the connection; the reason is logged.
    func close(reason: String)
    /// Sends a JSON-RPC request to the speaker's host (only to one that announced "rpc").
    func sendHostCall(_ json: String)
}

/// What a link tells its speaker: Snapcast's ServerSettings, and Tutti's additions for
/// speakers that understand them.
struct LinkSettings: Equatable, Sendable {
    var bufferMs: Int
    var volume: Int
    var muted: Bool
    var latencyMicroseconds: Int
    /// Whether the speaker takes its latency to the µs (it announced `latency-us`); else it
    /// gets whole ms.
    var fineLatency: Bool
    /// The level trim (dB) for a speaker that announced `trim`; nil for one that cannot apply it.
    var trimDB: Double?
    /// The channel the speaker plays itself; nil for a speaker that cannot (it gets a
    /// channel-mapped variant of the stream instead).
    var channel: AudioChannel?
    /// How often a speaker that can report its sync status should (nil: never).
    var statusIntervalMs: Int?
}
