#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiTiming

/// Small wrappers over the C calls the descriptor-based sources share.
enum POSIX {
    /// `strerror` text with the number, e.g. "No such file or directory (errno 2)".
    static func describe(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    /// The calling thread's current `errno`, described.
    static var lastError: String { describe(errno) }

    /// Closes `fd` if it is open and sets it to -1.
    static func closeIfOpen(_ fd: inout Int32) {
        if fd >= 0 { _ = close(fd) }
        fd = -1
    }

    /// Sets `O_NONBLOCK` (and keeps the other status flags).
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// One `read(2)` into `buffer`: the byte count, 0 at end of file, -1 with `errno` set.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        read(fd, buffer.baseAddress, buffer.count)
    }

    /// Sleeps for `nanoseconds` (≤ 0: returns at once); resumes after signals.
    static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(nanoseconds / .nanosPerSecond), tv_nsec: Int(nanoseconds % .nanosPerSecond))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// A point in monotonic time by which a blocking call must return.
struct Deadline {
    let instant: Nanos
    private static let clock = MonotonicClock()

    /// `nanoseconds` from now (negative counts as 0).
    init(fromNow nanoseconds: Int64) {
        instant = Self.clock.now() + max(0, nanoseconds)
    }

    /// Nanoseconds left, never negative.
    var remaining: Int64 { max(0, instant - Self.clock.now()) }

    var hasPassed: Bool { remaining == 0 }

    /// `remaining` for `poll`, rounded up to whole milliseconds.
    var pollMilliseconds: Int32 {
        Int32(clamping: (remaining + 999_999) / 1_000_000)
    }
}

/// Waits with `poll` until an event on `fds` or `deadline`, retrying after signals.
///
/// - Returns: true when some descriptor has events (see `revents`), false on timeout.
/// - Throws: ``SourceError/unavailable(_:)`` when `poll` itself fails (not for EINTR).
func pollUntil(_ fds: inout [pollfd], deadline: Deadline) throws(SourceError) -> Bool {
    while true {
        let count = fds.withUnsafeMutableBufferPointer { buffer in
            poll(buffer.baseAddress, nfds_t(buffer.count), deadline.pollMilliseconds)
        }
        if count > 0 { return true }
        if count == 0 { return false }
        let code = errno
        if code != EINTR { throw .unavailable("poll failed: \(POSIX.describe(code))") }
        if deadline.hasPassed { return false }
    }
}

/// Delays between restarts or reconnects: the first is `initial`, each next one doubles up to
/// `maximum`, and a run that lasted at least `resetAfter` starts the series over.
///
/// Pure: takes durations as parameters, reads no clock. Used by ``ProcessSource`` (restarts)
/// and ``TCPSource`` in client mode (reconnects).
public struct RestartBackoff: Sendable, Equatable {
    /// The first delay, in nanoseconds.
    public let initial: Int64
    /// The longest delay, in nanoseconds.
    public let maximum: Int64
    /// A run at least this long (nanoseconds) resets the delay to ``initial``.
    public let resetAfter: Int64
    /// The delay the next failure gets (before any reset).
    public private(set) var next: Int64

    /// Defaults: 250 ms doubling to 10 s, reset after a 10 s run.
    public init(
        initial: Int64 = 250 * .nanosPerMillisecond,
        maximum: Int64 = 10 * .nanosPerSecond,
        resetAfter: Int64 = 10 * .nanosPerSecond
    ) {
        self.initial = initial
        self.maximum = maximum
        self.resetAfter = resetAfter
        self.next = initial
    }

    /// The delay before the next attempt, after a run (or connection) that lasted `duration`
    /// nanoseconds (0 for an attempt that failed outright).
    public mutating func delay(afterRunLasting duration: Int64) -> Int64 {
        if duration >= resetAfter { next = initial }
        let delay = next
        next = min(next * 2, maximum)
        return delay
    }
}

extension POSIX {
    #if canImport(Glibc)
    static let streamSocketType = Int32(SOCK_STREAM.rawValue)
    #else
    static let streamSocketType = SOCK_STREAM
    #endif

    /// A new TCP socket for `family`, close-on-exec and non-blocking, or -1 with `errno` set.
    /// On Linux the flags are set atomically, so a child spawned by another thread meanwhile
    /// cannot inherit the descriptor (which would keep a connection or pipe open behind our back).
    static func makeStreamSocket(family: Int32) -> Int32 {
        #if os(Linux)
        return socket(family, streamSocketType | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        #else
        return DescriptorInheritanceLock.shared.withLock { () -> Int32 in
            let fd = socket(family, streamSocketType, 0)
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return fd
        }.settingNonBlocking()
        #endif
    }

    /// Accepts a waiting connection as a close-on-exec, non-blocking socket; -1 with `errno` set.
    ///
    /// Glibc's module does not export `accept4`, so the flags are set afterwards, under
    /// ``DescriptorInheritanceLock`` so that no ``ProcessSource`` child is spawned in between.
    static func acceptConnection(_ listener: Int32) -> Int32 {
        DescriptorInheritanceLock.shared.withLock { () -> Int32 in
            let fd = accept(listener, nil, nil)
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return fd
        }.settingNonBlocking()
    }

    /// A close-on-exec pipe (read end, write end); nil with `errno` set.
    ///
    /// `pipe2` is not exported either: the caller holds ``DescriptorInheritanceLock`` around
    /// this and its `posix_spawn`.
    static func makePipe() -> (read: Int32, write: Int32)? {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return (ends[0], ends[1])
    }

    /// Addresses for `host:port` as `getaddrinfo` returns them (numeric port; passive for servers).
    static func resolve(host: String, port: Int, passive: Bool) throws(SourceError) -> [(family: Int32, address: [UInt8])] {
        var hints = addrinfo()
        hints.ai_socktype = streamSocketType
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let result = getaddrinfo(host, String(port), &hints, &list)
        guard result == 0, let list else {
            throw .unavailable("cannot resolve \(host):\(port): \(String(cString: gai_strerror(result)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [(Int32, [UInt8])] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                let bytes = UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen))
                addresses.append((current.pointee.ai_family, Array(bytes)))
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .unavailable("\(host):\(port) resolves to no address") }
        return addresses
    }

    /// The numeric `host:port` of a socket's peer (or its own address when `local`), for logs.
    static func describeAddress(of fd: Int32, local: Bool = false) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                local ? getsockname(fd, $0, &length) == 0 : getpeername(fd, $0, &length) == 0
            }
        }
        guard ok else { return "?" }
        var host = [CChar](repeating: 0, count: 256)
        var service = [CChar](repeating: 0, count: 32)
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard result == 0 else { return "?" }
        func text(_ characters: [CChar]) -> String {
            String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return "\(text(host)):\(text(service))"
    }

    /// The port a socket is bound to (0 when it cannot be read).
    static func localPort(of fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return 0 }
        // sin_port and sin6_port both sit at offset 2, in network byte order.
        return withUnsafeBytes(of: &storage) { Int($0[2]) << 8 | Int($0[3]) }
    }
}

extension Int32 {
    /// Sets `O_NONBLOCK` on this descriptor when it is valid; returns it.
    fileprivate func settingNonBlocking() -> Int32 {
        if self >= 0 { POSIX.setNonBlocking(self) }
        return self
    }
}

/// Keeps descriptors from leaking into children: held while a descriptor exists without
/// `FD_CLOEXEC` yet, and while ``ProcessSource`` spawns. Without it, a child spawned by one
/// thread could inherit another source's pipe or connection and keep it open after we close it.
///
/// `@unchecked Sendable`: the only state is a pthread mutex, which is itself thread-safe; it is
/// heap-allocated so its address never moves.
final class DescriptorInheritanceLock: @unchecked Sendable {
    static let shared = DescriptorInheritanceLock()
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    private init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    /// Runs `body` with the lock held.
    func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
