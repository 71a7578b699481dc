#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TuttiAudio
import TuttiControl
import TuttiSources
import TuttiTiming

/// Reads one source on a thread of its own, paced by the source's real time, encodes each
/// chunk once and hands it to the stream on the event loop.
///
/// Blocking reads live here so that a slow FIFO writer or a stalled TCP peer never holds up
/// the event loop. The pacing and timestamp decisions are the pure ``ChunkPacer``'s; this
/// class only sleeps, reads and forwards. A source that fails to read is logged and retried;
/// a source that ends (a WAV file without `loop`) leaves the stream silent.
///
/// Channel variants (a stream's left or right channel on every output channel, for speakers
/// in a stereo pair that cannot pick a channel themselves) are encoded here too, from the same
/// read, each once for all the speakers that play it.
final class StreamReader: @unchecked Sendable {
    private let source: any PCMSource
    private let stream: AudioStream
    private let codec: String
    private var encoder: any AudioEncoder
    private let variants = NIOLockedValueBox<[Variant]>([])
    private let onPlaying: @Sendable (Bool) -> Void
    private let onFirstChunk: (@Sendable (Nanos) -> Void)?
    private var firstChunkSeen = false
    private let playing = NIOLockedValueBox(false)

    /// The stream this reader feeds.
    var streamName: String { stream.name }

    /// Whether the source is delivering audio now.
    var isPlaying: Bool { playing.withLockedValue { $0 } }
    private var pacer: ChunkPacer
    private let chunkBytes: Int
    private let clock: any TimeSource
    private let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    private let started = NIOLockedValueBox(false)
    private let finished = DispatchSemaphore(value: 0)
    /// The longest a blocking read or sleep lasts, so that `stop()` is noticed promptly.
    private let slice: Nanos = 50 * .nanosPerMillisecond

    /// - Parameters:
    ///   - onPlaying: called on the reader thread when the source starts (true) or pauses (false).
    ///   - onFirstChunk: called once, with the timestamp of the source's first frame (calibration
    ///     places its bursts in server time from it).
    init(
        source: any PCMSource, chunkMilliseconds: Int, stream: AudioStream, codec: String, encoder: any AudioEncoder, clock: any TimeSource,
        logger: Logger, onPlaying: @escaping @Sendable (Bool) -> Void = { _ in }, onFirstChunk: (@Sendable (Nanos) -> Void)? = nil
    ) {
        self.onFirstChunk = onFirstChunk
        self.source = source
        self.stream = stream
        self.codec = codec
        self.encoder = encoder
        self.onPlaying = onPlaying
        self.clock = clock
        let frames = max(1, source.format.frames(milliseconds: chunkMilliseconds))
        self.pacer = ChunkPacer(framesPerChunk: frames, sampleRate: source.format.rate)
        self.chunkBytes = frames * source.format.bytesPerFrame
        var logger = logger
        logger[metadataKey: "stream"] = "\(stream.name)"
        self.logger = logger
    }

    /// Starts the reader thread.
    func start() {
        started.withLockedValue { $0 = true }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "tutti-reader-\(stream.name)"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops the thread (within about 50 ms) and closes the source.
    /// A reader that never started just closes its source. Calling it again does nothing.
    func stop() {
        let wasStopped = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        if started.withLockedValue({ $0 }) { finished.wait() }
        source.close()
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

    /// A stream carrying `channel` on every output channel, encoded from the next chunk on.
    /// Called on the stream's event loop; the reader thread picks it up at its next chunk.
    func addVariant(_ channel: AudioChannel) throws -> AudioStream {
        stream.eventLoop.preconditionInEventLoop()
        let encoder = try StreamEncoders.make(codec: codec, format: stream.format)
        let variant = AudioStream(
            name: "\(stream.name)#\(channel.rawValue)", format: stream.format, codecName: encoder.codecName, codecHeader: encoder.header,
            bufferMs: Int(stream.bufferNanos / .nanosPerMillisecond), eventLoop: stream.eventLoop, channel: channel)
        let selection: ChannelSelection = channel == .left ? .left : channel == .right ? .right : .mix
        variants.withLockedValue { $0.append(Variant(stream: variant, selection: selection, encoder: encoder)) }
        return variant
    }

    /// A variant's stream and encoder; the encoder is used on the reader thread only.
    private final class Variant: @unchecked Sendable {
        let stream: AudioStream
        let selection: ChannelSelection
        var encoder: any AudioEncoder
        var scratch: [UInt8] = []

        init(stream: AudioStream, selection: ChannelSelection, encoder: any AudioEncoder) {
            self.stream = stream
            self.selection = selection
            self.encoder = encoder
        }
    }

    private func run() {
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        var filled = 0
        var wasPlaying = false
        while !isStopped {
            if let deadline = pacer.nextDeadline, clock.now() < deadline {
                sleep(until: min(deadline, clock.now() + slice))
                continue
            }
            let read: SourceRead
            do {
                read = try chunk.withUnsafeMutableBytes { buffer throws(SourceError) in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), timeoutNanoseconds: slice)
                }
            } catch {
                logger.error("reading the source failed: \(error); retrying in 1 s")
                sleep(until: clock.now() + 1 * .nanosPerSecond)
                continue
            }
            switch read {
            case .bytes(let count):
                filled += count
                guard filled == chunkBytes else { continue }
                filled = 0
                let timestamp = pacer.chunkRead(at: clock.now())
                if !firstChunkSeen {
                    firstChunkSeen = true
                    onFirstChunk?(timestamp)
                }
                if !wasPlaying {
                    logger.info("source is playing")
                    wasPlaying = true
                    playing.withLockedValue { $0 = true }
                    onPlaying(true)
                }
                let packets = chunk.withUnsafeBytes { encoder.encode($0, timestamp: timestamp) }
                forward(packets, to: stream)
                for variant in variants.withLockedValue({ $0 }) {
                    variant.scratch = chunk
                    variant.scratch.withUnsafeMutableBytes { PCMChannelMap.apply(variant.selection, to: $0, format: stream.format) }
                    forward(variant.scratch.withUnsafeBytes { variant.encoder.encode($0, timestamp: timestamp) }, to: variant.stream)
                }
            case .timedOut:
                if pacer.nothingRead(at: clock.now()) {
                    logger.info("source paused: no data for \(pacer.idleAfter / .nanosPerMillisecond) ms; stream idle")
                    wasPlaying = false
                    filled = 0
                    encoder.reset()
                    for variant in variants.withLockedValue({ $0 }) { variant.encoder.reset() }
                    playing.withLockedValue { $0 = false }
                    onPlaying(false)
                }
            case .ended:
                logger.notice("source ended; the stream stays silent")
                return
            }
        }
    }

    private func forward(_ packets: [EncodedPacket], to stream: AudioStream) {
        guard !packets.isEmpty else { return }
        let clock = self.clock
        stream.eventLoop.execute {
            for packet in packets { stream.publish(packet, sent: clock.now()) }
        }
    }

    private func sleep(until instant: Nanos) {
        let delta = instant - clock.now()
        guard delta > 0 else { return }
        var request = timespec(tv_sec: Int(delta / .nanosPerSecond), tv_nsec: Int(delta % .nanosPerSecond))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1, errno == EINTR { request = remaining }
    }
}
