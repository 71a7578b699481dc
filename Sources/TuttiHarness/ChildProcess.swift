import Foundation
import Synchronization

/// A child process whose stdout is captured with the monotonic arrival time of each read, and
/// whose stderr is collected, for tests against real programs. Killed on `stop()`/deinit.
///
/// Spawned with `posix_spawn` and an empty signal mask: test-runner threads block signals, and
/// a child started from one (as Foundation's `Process` does) would inherit that and ignore
/// SIGTERM — which would make graceful shutdown untestable.
public final class ChildProcess: @unchecked Sendable {
    public struct Read: Sendable {
        /// CLOCK_MONOTONIC nanoseconds when the bytes were read (taken outside the child).
        public var arrival: Int64
        public var bytes: [UInt8]

        public init(arrival: Int64, bytes: [UInt8]) {
            self.arrival = arrival
            self.bytes = bytes
        }
    }

    public let pid: pid_t
    private let state = Mutex<(reads: [Read], stderr: [UInt8], status: Int32?)>(([], [], nil))
    private let exited = DispatchSemaphore(value: 0)
    private let outputEnded = DispatchSemaphore(value: 0)
    private let errorEnded = DispatchSemaphore(value: 0)

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        var pid: pid_t = 0
        let result = withCStrings([executable] + arguments) { argv in
            withCStrings(env) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT)
        }
        self.pid = pid
        let out = outPipe[0], err = errPipe[0]
        Thread.detachNewThread { [self] in
            pump(out) { now, bytes in state.withLock { $0.reads.append(Read(arrival: now, bytes: bytes)) } }
            outputEnded.signal()
        }
        Thread.detachNewThread { [self] in
            pump(err) { _, bytes in state.withLock { $0.stderr.append(contentsOf: bytes) } }
            errorEnded.signal()
        }
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) == -1, errno == EINTR {}
            state.withLock { $0.status = status }
            exited.signal()
        }
    }

    private func pump(_ fd: Int32, _ deliver: (Int64, [UInt8]) -> Void) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return }
            deliver(monotonicNanos(), Array(buffer[0..<count]))
        }
    }

    /// Everything written to stdout so far, concatenated.
    public var output: [UInt8] { state.withLock { $0.reads.flatMap(\.bytes) } }
    public var reads: [Read] { state.withLock { $0.reads } }
    public var errorText: String { state.withLock { String(decoding: $0.stderr, as: UTF8.self) } }
    public var isRunning: Bool { state.withLock { $0.status == nil } }

    /// Waits up to `seconds` for the child's stdout to close (it exited, and everything it
    /// wrote has been read); returns whether it did.
    public func waitForOutputEnd(seconds: Double) -> Bool {
        guard outputEnded.wait(timeout: .now() + seconds) == .success else { return false }
        outputEnded.signal()  // later waits return at once
        return true
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Stops the child (SIGTERM, then SIGKILL after 3 s) and waits for it.
    public func stop() {
        guard isRunning else { return }
        signal(SIGTERM)
        if waitForExit(seconds: 3) == nil {
            signal(SIGKILL)
            _ = waitForExit(seconds: 3)
        }
    }

    /// Waits up to `seconds` for the child to exit, and then for what it wrote to stderr;
    /// returns its exit code (128 + signal when killed by one), or nil if it is still running.
    public func waitForExit(seconds: Double) -> Int32? {
        if isRunning {
            guard exited.wait(timeout: .now() + seconds) == .success else { return nil }
            exited.signal()  // later waits return at once
            // What it wrote to stderr before exiting is read by now (unless a child of its own
            // keeps the pipe open: then after a second at most).
            if errorEnded.wait(timeout: .now() + 1) == .success { errorEnded.signal() }
        }
        let status = state.withLock { $0.status } ?? 0
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    deinit {
        if isRunning { kill(pid, SIGKILL) }
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

public func monotonicNanos() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// Waits until `condition` holds or `seconds` pass; returns whether it held.
public func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
