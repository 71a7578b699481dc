#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Reads PCM from a TCP peer, either listening for it (`mode=server`) or connecting to it
/// (`mode=client`). Plain non-blocking sockets and `poll`; no event loop.
///
/// Server mode listens on `host:port` and reads from one client at a time. A client that
/// connects while another is connected **replaces** it (the old connection is closed): a
/// producer that restarted, or whose old connection is half-open, must not be locked out by its
/// own ghost. Between clients ``read`` returns `.timedOut`.
///
/// Client mode connects to `host:port` and reconnects forever after the connection fails or
/// drops, with a backoff of 250 ms doubling to 10 s (reset by a connection that lasted 10 s);
/// meanwhile ``read`` returns `.timedOut`. The host is resolved again for every attempt (a name
/// lookup may block the reading thread briefly); the first address is used.
public final class TCPSource: PCMSource {
    public let format: SampleFormat
    /// The host from the URI.
    public let host: String
    /// The port being listened on (server mode: the bound one, useful with port 0) or connected to.
    public private(set) var port: Int
    /// Server or client.
    public let mode: SourceURI.TCPMode

    private enum ClientState {
        case idle(nextAttemptAt: Nanos)
        case connecting(fd: Int32)
        case connected(fd: Int32, since: Nanos)
    }

    private var listenFD: Int32 = -1
    private var peerFD: Int32 = -1
    private var clientState: ClientState = .idle(nextAttemptAt: 0)
    private var backoff: RestartBackoff
    private var reportedConnectFailure = false
    private var isClosed = false
    private let logger: Logger
    private let clock = MonotonicClock()

    /// Creates the source; in server mode binds and listens at once.
    ///
    /// - Throws: ``SourceError/unavailable(_:)`` when the address does not resolve or (server
    ///   mode) the port cannot be bound; the message names host, port and errno text.
    public init(
        host: String, port: Int, mode: SourceURI.TCPMode, format: SampleFormat, logger: Logger,
        backoff: RestartBackoff = RestartBackoff()
    ) throws(SourceError) {
        self.host = host
        self.port = port
        self.mode = mode
        self.format = format
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "source"] = "tcp:\(host):\(port)"
        self.logger = logger
        if mode == .server { try startListening() }
    }

    deinit { close() }

    /// Reads what the peer sent, waiting up to `timeoutNanoseconds`.
    ///
    /// A peer that disconnects is not an error: the call goes on waiting (for the next client,
    /// or for a reconnect) and returns `.timedOut`. Never returns `.ended`. Throws
    /// ``SourceError/unavailable(_:)`` after ``close()``.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        guard !isClosed else { throw .unavailable("tcp source \(host):\(port) is closed") }
        guard buffer.count > 0 else { return .timedOut }
        let deadline = Deadline(fromNow: timeoutNanoseconds)
        switch mode {
        case .server: return try readAsServer(into: buffer, deadline: deadline)
        case .client: return try readAsClient(into: buffer, deadline: deadline)
        }
    }

    /// Closes the listening socket and any connection. Idempotent.
    public func close() {
        isClosed = true
        POSIX.closeIfOpen(&listenFD)
        POSIX.closeIfOpen(&peerFD)
        switch clientState {
        case .connecting(var fd), .connected(var fd, _):
            POSIX.closeIfOpen(&fd)
            clientState = .idle(nextAttemptAt: 0)
        case .idle:
            break
        }
    }

    // MARK: Server mode

    private func startListening() throws(SourceError) {
        let addresses = try POSIX.resolve(host: host, port: port, passive: true)
        var lastError = "no address"
        for (family, address) in addresses {
            var fd = POSIX.makeStreamSocket(family: family)
            guard fd >= 0 else { lastError = POSIX.lastError; continue }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) == 0
            }
            if bound, listen(fd, 4) == 0 {
                listenFD = fd
                port = POSIX.localPort(of: fd)
                logger.info("listening for a PCM producer", metadata: ["address": "\(POSIX.describeAddress(of: fd, local: true))"])
                return
            }
            lastError = POSIX.lastError
            POSIX.closeIfOpen(&fd)
        }
        throw .unavailable("cannot listen on \(host):\(port): \(lastError)")
    }

    private func readAsServer(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(SourceError) -> SourceRead {
        while true {
            if peerFD >= 0 {
                let count = POSIX.readSome(peerFD, into: buffer)
                if count > 0 { return .bytes(count) }
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    let why = count == 0 ? "closed the connection" : "connection failed: \(POSIX.lastError)"
                    logger.info("PCM producer \(why)", metadata: ["peer": "\(POSIX.describeAddress(of: peerFD))"])
                    POSIX.closeIfOpen(&peerFD)
                    continue
                }
            }
            if deadline.hasPassed { return .timedOut }
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            if peerFD >= 0 { fds.append(pollfd(fd: peerFD, events: Int16(POLLIN), revents: 0)) }
            guard try pollUntil(&fds, deadline: deadline) else { return .timedOut }
            if fds[0].revents != 0 { acceptWaitingClients() }
        }
    }

    private func acceptWaitingClients() {
        while true {
            let fd = POSIX.acceptConnection(listenFD)
            guard fd >= 0 else { return }  // EAGAIN: none left (other errors: the client is gone)
            if peerFD >= 0 {
                logger.info("new PCM producer replaces the connected one", metadata: ["old": "\(POSIX.describeAddress(of: peerFD))"])
                POSIX.closeIfOpen(&peerFD)
            }
            peerFD = fd
            logger.info("PCM producer connected", metadata: ["peer": "\(POSIX.describeAddress(of: fd))"])
        }
    }

    // MARK: Client mode

    private func readAsClient(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(SourceError) -> SourceRead {
        while true {
            switch clientState {
            case .connected(var fd, let since):
                let count = POSIX.readSome(fd, into: buffer)
                if count > 0 { return .bytes(count) }
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    let why = count == 0 ? "closed the connection" : "connection failed: \(POSIX.lastError)"
                    POSIX.closeIfOpen(&fd)
                    let delay = backoff.delay(afterRunLasting: clock.now() - since)
                    clientState = .idle(nextAttemptAt: clock.now() + delay)
                    logger.info("PCM server \(why); reconnecting in \(delay / .nanosPerMillisecond) ms")
                    continue
                }
                if deadline.hasPassed { return .timedOut }
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
                guard try pollUntil(&fds, deadline: deadline) else { return .timedOut }
            case .connecting(var fd):
                var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                guard try pollUntil(&fds, deadline: deadline) else { return .timedOut }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length) != 0 { socketError = errno }
                if socketError == 0 {
                    clientState = .connected(fd: fd, since: clock.now())
                    reportedConnectFailure = false
                    logger.info("connected to PCM server", metadata: ["peer": "\(POSIX.describeAddress(of: fd))"])
                } else {
                    POSIX.closeIfOpen(&fd)
                    connectFailed(POSIX.describe(socketError))
                }
            case .idle(let nextAttemptAt):
                let now = clock.now()
                if now >= nextAttemptAt {
                    startConnecting()
                } else if deadline.instant < nextAttemptAt {
                    POSIX.sleep(nanoseconds: deadline.remaining)
                    return .timedOut
                } else {
                    POSIX.sleep(nanoseconds: nextAttemptAt - now)
                }
            }
        }
    }

    private func startConnecting() {
        let address: (family: Int32, address: [UInt8])
        do {
            guard let first = try POSIX.resolve(host: host, port: port, passive: false).first else { return }
            address = first
        } catch {
            connectFailed(error.description)
            return
        }
        var fd = POSIX.makeStreamSocket(family: address.family)
        guard fd >= 0 else {
            connectFailed(POSIX.lastError)
            return
        }
        let result = address.address.withUnsafeBytes {
            connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        if result == 0 || errno == EINPROGRESS || errno == EINTR {
            clientState = .connecting(fd: fd)
        } else {
            let why = POSIX.lastError
            POSIX.closeIfOpen(&fd)
            connectFailed(why)
        }
    }

    private func connectFailed(_ why: String) {
        let delay = backoff.delay(afterRunLasting: 0)
        clientState = .idle(nextAttemptAt: clock.now() + delay)
        let message: Logger.Message = "cannot connect to PCM server: \(why); retrying in \(delay / .nanosPerMillisecond) ms"
        if reportedConnectFailure {
            logger.debug(message)
        } else {
            reportedConnectFailure = true
            logger.warning(message)
        }
    }
}
