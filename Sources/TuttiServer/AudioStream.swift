import NIOCore
import TuttiAudio
import TuttiTiming
import TuttiWire

/// One encoded chunk as it goes out: a whole WireChunk frame, encoded once and shared (not
/// copied) by every session of the stream.
struct PublishedChunk {
    /// Server time of the chunk's first sample.
    var timestamp: Nanos
    /// The encoded frame (header + payload).
    var frame: ByteBuffer
}

/// A named stream as the sessions see it: its codec header, its recent chunks and its speakers.
///
/// Confined to the server's single event loop (every method asserts it); the stream reader
/// thread hands chunks over with `eventLoop.execute`. Recent chunks — those a speaker could
/// still play, `timestamp + buffer > now` — are kept so that a speaker joining a playing
/// stream gets them at once and can start after one round trip.
final class AudioStream: @unchecked Sendable {
    let name: String
    let format: SampleFormat
    let codecName: String
    /// The encoded CodecHeader frame every new speaker receives before chunks.
    let codecHeaderFrame: ByteBuffer
    let eventLoop: any EventLoop
    private let buffer: Nanos
    private var recent: [PublishedChunk] = []
    private var sessions: [ObjectIdentifier: SnapSession] = [:]
    /// Chunks published since start.
    private(set) var chunksPublished = 0

    init(name: String, format: SampleFormat, codecName: String, codecHeader: [UInt8], bufferMs: Int, eventLoop: any EventLoop) {
        self.name = name
        self.format = format
        self.codecName = codecName
        self.buffer = Nanos(bufferMs) * .nanosPerMillisecond
        self.eventLoop = eventLoop
        let header = CodecHeader(codec: codecName, payload: ByteBuffer(bytes: codecHeader))
        self.codecHeaderFrame = SnapFrame(message: .codecHeader(header)).encoded()
    }

    /// Encodes a packet's WireChunk frame once and hands it to every session of the stream.
    func publish(_ packet: EncodedPacket, sent: Nanos) {
        eventLoop.preconditionInEventLoop()
        let chunk = WireChunk(timestamp: TimeVal(nanoseconds: packet.timestamp), data: ByteBuffer(bytes: packet.bytes))
        let frame = SnapFrame(sent: TimeVal(nanoseconds: sent), message: .wireChunk(chunk)).encoded()
        let published = PublishedChunk(timestamp: packet.timestamp, frame: frame)
        recent.append(published)
        let stale = recent.prefix { $0.timestamp + buffer <= sent }.count
        if stale > 0 { recent.removeFirst(stale) }
        chunksPublished += 1
        for session in sessions.values { session.enqueue(published) }
    }

    /// The chunks a speaker joining at `now` can still play, oldest first.
    func playableChunks(at now: Nanos) -> ArraySlice<PublishedChunk> {
        eventLoop.preconditionInEventLoop()
        let start = recent.firstIndex { $0.timestamp + buffer > now } ?? recent.endIndex
        return recent[start...]
    }

    func add(_ session: SnapSession) {
        eventLoop.preconditionInEventLoop()
        sessions[ObjectIdentifier(session)] = session
    }

    func remove(_ session: SnapSession) {
        eventLoop.preconditionInEventLoop()
        sessions[ObjectIdentifier(session)] = nil
    }

    var sessionCount: Int { sessions.count }
}
