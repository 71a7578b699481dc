#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole byte buffers to a file descriptor: retries after signals and partial writes,
/// waits with `poll` when the descriptor is non-blocking and full, and turns errno into
/// ``OutputError``. Shared by ``PipeOutput`` and ``WAVFileOutput``; audio thread only.
struct FileDescriptorSink {
    /// The descriptor written to; -1 once closed.
    private(set) var fd: Int32
    /// What the descriptor is, for error messages ("standard output", a path).
    let target: String
    /// Whether ``close()`` closes the descriptor (not for standard output).
    let ownsDescriptor: Bool

    init(fd: Int32, target: String, ownsDescriptor: Bool) {
        self.fd = fd
        self.target = target
        self.ownsDescriptor = ownsDescriptor
        SignalSetup.ignoreBrokenPipe()
    }

    var isOpen: Bool { fd >= 0 }

    /// Writes all of `bytes`, blocking as long as the reader or disk needs.
    ///
    /// - Throws: ``OutputError/readerGone(target:)`` on EPIPE, ``OutputError/writeFailed(target:reason:)``
    ///   for anything else (ENOSPC: disk full), ``OutputError/closed(target:)`` after ``close()``.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        guard fd >= 0 else { throw .closed(target: target) }
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count > 0 {
                offset += count
                continue
            }
            let code = count < 0 ? errno : EIO
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var pollEntry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollEntry, 1, 1000)
            case EPIPE:
                throw .readerGone(target: target)
            default:
                throw .writeFailed(target: target, reason: describeErrno(code))
            }
        }
    }

    /// Writes `bytes` at `offset` without moving the file position (for rewriting a header).
    func writeAll(_ bytes: [UInt8], at offset: Int) throws(OutputError) {
        guard fd >= 0 else { throw .closed(target: target) }
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            }
            if count > 0 {
                done += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                throw .writeFailed(target: target, reason: describeErrno(count < 0 ? errno : EIO))
            }
        }
    }

    /// Closes the descriptor when this sink owns it; idempotent.
    mutating func close() {
        if fd >= 0 && ownsDescriptor { closeDescriptor(fd) }
        fd = -1
    }
}

/// `close(2)`, out of reach of methods named `close` in the types above.
func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// `strerror` text with the number, e.g. "No space left on device (errno 28)".
func describeErrno(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}

/// Process-wide signal settings outputs rely on.
enum SignalSetup {
    /// Ignores SIGPIPE for the whole process, once.
    ///
    /// A pipe whose reader left would otherwise kill the process on the next `write`; with the
    /// signal ignored, `write` fails with EPIPE, which outputs report as
    /// ``OutputError/readerGone(target:)``. Pipes have no per-call `MSG_NOSIGNAL`, so this is
    /// the only reliable way; Tutti's server ignores SIGPIPE too, and child processes get it
    /// back at its default (``ProcessSource`` resets it when spawning).
    static func ignoreBrokenPipe() { _ = ignoreOnce }

    private static let ignoreOnce: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()
}
