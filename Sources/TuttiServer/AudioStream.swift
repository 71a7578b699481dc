import NIOCore
import TuttiAudio
import TuttiControl
import TuttiTiming

/// A named stream as the server's core sees it: its codec header, its recent packets and the
/// links of the speakers that play it. Protocol-neutral: packets are codec bytes with times.
///
/// Confined to the server's event loop (every method asserts it); the stream reader's thread
/// hands packets over with `eventLoop.execute`. Recent packets — those a speaker could still
/// play, `timestamp + buffer > now` — are kept so that a speaker joining, switching to or
/// unmuted on a playing stream gets them at once and can start after one round trip.
final class AudioStream: @unchecked Sendable {
    /// The stream's ID; a channel variant's is its stream's plus `#left`, `#right` or `#mono`.
    let name: String
    let format: SampleFormat
    let codecName: String
    let codecHeader: [UInt8]
    /// For a variant: the channel it carries on every output channel.
    let channel: AudioChannel
    let eventLoop: any EventLoop
    let bufferNanos: Nanos
    private var recent: [StreamPacket] = []
    private var links: [ObjectIdentifier: any SpeakerLink] = [:]
    /// Variants of this stream for speakers that cannot pick a channel themselves, by channel.
    var variants: [AudioChannel: AudioStream] = [:]

    init(
        name: String, format: SampleFormat, codecName: String, codecHeader: [UInt8], bufferMs: Int, eventLoop: any EventLoop,
        channel: AudioChannel = .stereo
    ) {
        self.name = name
        self.format = format
        self.codecName = codecName
        self.codecHeader = codecHeader
        self.channel = channel
        self.bufferNanos = Nanos(bufferMs) * .nanosPerMillisecond
        self.eventLoop = eventLoop
    }

    /// Keeps a packet for joiners and hands it to every link of the stream.
    func publish(_ packet: EncodedPacket, sent: Nanos) {
        eventLoop.preconditionInEventLoop()
        let published = StreamPacket(timestamp: packet.timestamp, sent: sent, payload: ByteBuffer(bytes: packet.bytes))
        recent.append(published)
        let stale = recent.prefix { $0.timestamp + bufferNanos <= sent }.count
        if stale > 0 { recent.removeFirst(stale) }
        for link in links.values { link.deliver(published) }
    }

    /// The packets a speaker starting at `now` can still play, oldest first.
    func playablePackets(at now: Nanos) -> ArraySlice<StreamPacket> {
        eventLoop.preconditionInEventLoop()
        let start = recent.firstIndex { $0.timestamp + bufferNanos > now } ?? recent.endIndex
        return recent[start...]
    }

    func add(_ link: any SpeakerLink) {
        eventLoop.preconditionInEventLoop()
        links[ObjectIdentifier(link)] = link
    }

    func remove(_ link: any SpeakerLink) {
        eventLoop.preconditionInEventLoop()
        links[ObjectIdentifier(link)] = nil
    }
}
