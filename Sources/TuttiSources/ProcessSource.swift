#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Reads PCM from a child process's standard output, restarting the child whenever it exits.
///
/// States: **running** (reading the child's stdout), **exiting** (stdout closed, waiting to reap
/// the child; after 5 s it is killed), **waiting** (backoff before the next start: 250 ms
/// doubling to 10 s, back to 250 ms once a child ran 10 s), **closed**. While the child is
/// missing, ``read`` returns `.timedOut`. Every child is reaped, so none is left a zombie.
/// The child's stdin is /dev/null and its stderr is the server's, so its complaints reach the log
/// output. Signals the server ignores (SIGPIPE) are reset to their defaults in the child.
public final class ProcessSource: PCMSource {
    public let format: SampleFormat
    /// The program's path, as resolved (a bare name is looked up in `PATH`).
    public let executable: String
    /// The program's arguments (not including argv[0]).
    public let arguments: [String]

    private struct Child {
        let pid: pid_t
        let output: Int32
        let startedAt: Nanos
    }

    private enum State {
        case running(Child)
        case exiting(pid: pid_t, since: Nanos, ranFor: Int64)
        case waiting(until: Nanos)
        case closed
    }

    private var state: State = .closed
    private var backoff: RestartBackoff
    private let logger: Logger
    private let clock = MonotonicClock()
    /// How long a child that closed its stdout may linger before it is killed.
    static let lingerAfterClosingOutput: Int64 = 5 * .nanosPerSecond

    /// Starts `executable` with `arguments`.
    ///
    /// - Throws: ``SourceError/unavailable(_:)`` when the program does not exist, is not
    ///   executable or cannot be started (the message names it and the errno text).
    public init(
        executable: String, arguments: [String], format: SampleFormat, logger: Logger,
        backoff: RestartBackoff = RestartBackoff()
    ) throws(SourceError) {
        self.executable = try Self.resolve(executable)
        self.arguments = arguments
        self.format = format
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "source"] = "process:\(executable)"
        self.logger = logger
        state = .running(try spawn())
    }

    deinit { close() }

    /// Reads the child's output, waiting up to `timeoutNanoseconds`.
    ///
    /// When the child exits, it is reaped and restarted after the backoff; meanwhile this
    /// returns `.timedOut`. Never returns `.ended`. Throws ``SourceError/unavailable(_:)`` after
    /// ``close()``.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        guard buffer.count > 0 else { return .timedOut }
        let deadline = Deadline(fromNow: timeoutNanoseconds)
        while true {
            switch state {
            case .closed:
                throw .unavailable("process source \(executable) is closed")
            case .running(let child):
                let (pid, output, startedAt) = (child.pid, child.output, child.startedAt)
                let count = POSIX.readSome(output, into: buffer)
                if count > 0 { return .bytes(count) }
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    var output = output
                    POSIX.closeIfOpen(&output)
                    state = .exiting(pid: pid, since: clock.now(), ranFor: clock.now() - startedAt)
                    continue
                }
                if deadline.hasPassed { return .timedOut }
                var fds = [pollfd(fd: output, events: Int16(POLLIN), revents: 0)]
                guard try pollUntil(&fds, deadline: deadline) else { return .timedOut }
            case .exiting(let pid, let since, let ranFor):
                if let status = Self.reap(pid) {
                    scheduleRestart(after: status, ranFor: ranFor)
                } else if clock.now() - since >= Self.lingerAfterClosingOutput {
                    logger.warning("child closed its output but did not exit; killing it", metadata: ["pid": "\(pid)"])
                    _ = kill(pid, SIGKILL)
                    scheduleRestart(after: Self.reapBlocking(pid), ranFor: ranFor)
                } else if deadline.hasPassed {
                    return .timedOut
                } else {
                    POSIX.sleep(nanoseconds: min(10 * .nanosPerMillisecond, deadline.remaining))
                }
            case .waiting(let until):
                let now = clock.now()
                if now >= until {
                    do {
                        state = .running(try spawn())
                    } catch {
                        state = .waiting(until: now + backoff.delay(afterRunLasting: 0))
                        logger.error("cannot restart child: \(error)")
                    }
                } else if deadline.instant < until {
                    POSIX.sleep(nanoseconds: deadline.remaining)
                    return .timedOut
                } else {
                    POSIX.sleep(nanoseconds: until - now)
                }
            }
        }
    }

    /// Stops the child (SIGTERM, then SIGKILL after 1 s) and reaps it. Idempotent.
    public func close() {
        switch state {
        case .running(let child):
            var output = child.output
            POSIX.closeIfOpen(&output)
            Self.terminate(child.pid)
        case .exiting(let pid, _, _):
            Self.terminate(pid)
        case .waiting, .closed:
            break
        }
        state = .closed
    }

    private func scheduleRestart(after status: Int32, ranFor: Int64) {
        let delay = backoff.delay(afterRunLasting: ranFor)
        state = .waiting(until: clock.now() + delay)
        logger.info(
            "child \(Self.describe(status: status)) after \(ranFor / .nanosPerMillisecond) ms; restarting in \(delay / .nanosPerMillisecond) ms"
        )
    }

    /// Starts the child with its stdout on a new non-blocking pipe.
    private func spawn() throws(SourceError) -> Child {
        let (pid, output) = try DescriptorInheritanceLock.shared.withLock { () throws(SourceError) -> (pid_t, Int32) in
            try spawnLocked()
        }
        logger.info("started child", metadata: ["pid": "\(pid)", "arguments": "\(arguments)"])
        return Child(pid: pid, output: output, startedAt: clock.now())
    }

    /// Creates the pipe and spawns; called with ``DescriptorInheritanceLock`` held.
    private func spawnLocked() throws(SourceError) -> (pid_t, Int32) {
        guard let pipeEnds = POSIX.makePipe() else {
            throw .unavailable("cannot create a pipe for \(executable): \(POSIX.lastError)")
        }
        var (readEnd, writeEnd) = pipeEnds
        POSIX.setNonBlocking(readEnd)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        POSIX.closeIfOpen(&writeEnd)
        guard result == 0 else {
            POSIX.closeIfOpen(&readEnd)
            throw .unavailable("cannot start \(executable): \(POSIX.describe(result))")
        }
        return (pid, readEnd)
    }

    /// `program` itself when it contains a slash, else the first executable match in `PATH`.
    private static func resolve(_ program: String) throws(SourceError) -> String {
        let candidates: [String]
        if program.contains("/") {
            candidates = [program]
        } else {
            let searchPath = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
            candidates = searchPath.split(separator: ":").map { "\($0)/\(program)" }
        }
        for candidate in candidates {
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
               info.st_mode & 0o111 != 0, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        if program.contains("/"), access(program, F_OK) == 0 {
            throw .unavailable("\(program) is not an executable file")
        }
        throw .unavailable("program \(program) not found\(program.contains("/") ? "" : " in PATH")")
    }

    /// Reaps `pid` if it has exited: its wait status, or nil while it runs.
    private static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return status }
            if result == 0 { return nil }
            if errno != EINTR { return 0 }  // ECHILD: already reaped elsewhere
        }
    }

    private static func reapBlocking(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 0 }
        }
        return status
    }

    /// SIGTERM, up to 1 s to exit, then SIGKILL; always reaps.
    private static func terminate(_ pid: pid_t) {
        _ = kill(pid, SIGTERM)
        for _ in 0..<100 {
            if reap(pid) != nil { return }
            POSIX.sleep(nanoseconds: 10 * .nanosPerMillisecond)
        }
        _ = kill(pid, SIGKILL)
        _ = reapBlocking(pid)
    }

    /// "exited with status 1" or "was killed by signal 9", from a `waitpid` status.
    static func describe(status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(signal)"
    }
}
