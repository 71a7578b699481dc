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
import TuttiSources
import TuttiTiming

/// Reads one source on a thread of its own, paced by the source's real time, encodes each
/// chunk once and hands it to the stream on the event loop.
///
/// Blocking reads live here so that a slow FIFO writer or a stalled TCP peer never holds up
/// the event loop. The pacing and timestamp decisions are the pure ``ChunkPacer``'s; this
/// class only sleeps, reads and forwards. A source that fails to read is logged and retried;
/// a source that ends (a WAV file without `loop`) leaves the stream silent.
final class StreamReader: @unchecked Sendable {
    private let source: any PCMSource
    private let stream: AudioStream
    private var encoder: any AudioEncoder
    private var pacer: ChunkPacer
    private let chunkBytes: Int
    private let clock: any TimeSource
    private let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    private let finished = DispatchSemaphore(value: 0)
    /// The longest a blocking read or sleep lasts, so that `stop()` is noticed promptly.
    private let slice: Nanos = 50 * .nanosPerMillisecond

    init(source: any PCMSource, chunkMilliseconds: Int, stream: AudioStream, encoder: any AudioEncoder, clock: any TimeSource, logger: Logger) {
        self.source = source
        self.stream = stream
        self.encoder = encoder
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
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "tutti-reader-\(stream.name)"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops the thread (within about 50 ms) and closes the source.
    func stop() {
        stopped.withLockedValue { $0 = true }
        finished.wait()
        source.close()
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

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
                if !wasPlaying {
                    logger.info("source is playing")
                    wasPlaying = true
                }
                let packets = chunk.withUnsafeBytes { encoder.encode($0, timestamp: timestamp) }
                forward(packets)
            case .timedOut:
                if pacer.nothingRead(at: clock.now()) {
                    logger.info("source paused: no data for \(pacer.idleAfter / .nanosPerMillisecond) ms; stream idle")
                    wasPlaying = false
                    filled = 0
                    encoder.reset()
                }
            case .ended:
                logger.notice("source ended; the stream stays silent")
                return
            }
        }
    }

    private func forward(_ packets: [EncodedPacket]) {
        guard !packets.isEmpty else { return }
        let stream = self.stream
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
