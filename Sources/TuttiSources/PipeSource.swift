#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Reads PCM from a named pipe (FIFO), the way MPD, librespot and shairport-sync feed Snapcast.
///
/// The FIFO is created (mode 0660) when missing; a path that exists but is not a FIFO is refused.
/// Besides its read end the source keeps a write end of its own open, so the pipe never reports
/// end-of-file: a writer may leave and come back any number of times, and in between ``read``
/// simply times out. Because of that, "writer gone" cannot be seen directly; it is logged when
/// no byte has come for ``silenceBeforeLogging`` after data flowed, and "data again" when
/// bytes return.
public final class PipeSource: PCMSource {
    public let format: SampleFormat
    /// The FIFO's path.
    public let path: String
    /// How long the pipe must stay silent after data before the source logs that the writer went away.
    public static let silenceBeforeLogging: Int64 = 1 * .nanosPerSecond

    private var readFD: Int32 = -1
    private var writeFD: Int32 = -1
    private let logger: Logger
    private let clock = MonotonicClock()
    private var lastDataAt: Nanos?
    private var reportedSilence = true

    /// Opens (creating if needed) the FIFO at `path`.
    ///
    /// - Throws: ``SourceError/unavailable(_:)`` when the FIFO cannot be created or opened, or the
    ///   path exists and is not a FIFO.
    public init(path: String, format: SampleFormat, logger: Logger) throws(SourceError) {
        self.path = path
        self.format = format
        var logger = logger
        logger[metadataKey: "source"] = "pipe:\(path)"
        self.logger = logger

        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            guard code == ENOENT else { throw .unavailable("cannot inspect \(path): \(POSIX.describe(code))") }
            guard mkfifo(path, 0o660) == 0 else { throw .unavailable("cannot create FIFO \(path): \(POSIX.lastError)") }
            _ = chmod(path, 0o660)  // mkfifo's mode is filtered by the umask
            logger.info("created FIFO", metadata: ["path": "\(path)"])
        } else if (info.st_mode & S_IFMT) != S_IFIFO {
            throw .unavailable("\(path) exists and is not a FIFO")
        }
        readFD = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard readFD >= 0 else { throw .unavailable("cannot open FIFO \(path) for reading: \(POSIX.lastError)") }
        // Our own write end: without it the read end sees EOF whenever the last writer leaves.
        writeFD = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard writeFD >= 0 else {
            let why = POSIX.lastError
            POSIX.closeIfOpen(&readFD)
            throw .unavailable("cannot hold FIFO \(path) open for writing: \(why)")
        }
    }

    deinit { close() }

    /// Reads what the writer has put in the pipe, waiting up to `timeoutNanoseconds`.
    ///
    /// Never returns `.ended`: with no writer it returns `.timedOut`. After ``close()`` it throws
    /// ``SourceError/unavailable(_:)``.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        guard readFD >= 0 else { throw .unavailable("FIFO \(path) is closed") }
        guard buffer.count > 0 else { return .timedOut }
        let deadline = Deadline(fromNow: timeoutNanoseconds)
        var fds = [pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let count = POSIX.readSome(readFD, into: buffer)
            if count > 0 {
                noteData()
                return .bytes(count)
            }
            if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR {
                throw .unavailable("reading FIFO \(path) failed: \(POSIX.lastError)")
            }
            // count == 0 cannot happen while we hold a write end; treat it like EAGAIN.
            if deadline.hasPassed { break }
            fds[0].revents = 0
            guard try pollUntil(&fds, deadline: deadline) else { break }
        }
        noteSilence()
        return .timedOut
    }

    public func close() {
        POSIX.closeIfOpen(&readFD)
        POSIX.closeIfOpen(&writeFD)
    }

    private func noteData() {
        lastDataAt = clock.now()
        if reportedSilence {
            reportedSilence = false
            logger.info("FIFO writer is sending data")
        }
    }

    private func noteSilence() {
        guard !reportedSilence, let lastDataAt, clock.now() - lastDataAt >= Self.silenceBeforeLogging else { return }
        reportedSilence = true
        logger.info("FIFO silent for 1 s: writer gone or paused")
    }
}
