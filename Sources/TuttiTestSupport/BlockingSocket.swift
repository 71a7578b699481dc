import Foundation
import TuttiHarness

/// A TCP connection to 127.0.0.1 on a blocking socket whose reads time out every 100 ms, for
/// test peers that send exact (or exactly wrong) bytes and read what comes back.
public final class BlockingSocket {
    private let fd: Int32
    /// Whether the peer closed the connection (a read returned 0 or failed).
    public private(set) var closedByPeer = false

    /// Connects to 127.0.0.1:`port`; `receiveBufferSize` shrinks SO_RCVBUF (for a stuck peer).
    public init(port: Int, receiveBufferSize: Int32? = nil) throws {
        let connected = loopbackSocket(SOCK_STREAM, port: port) { fd in
            if var size = receiveBufferSize {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        guard let connected else { throw POSIXError(.ECONNREFUSED) }
        fd = connected
    }

    deinit { close(fd) }

    /// Sends every byte (or stops quietly when the peer is gone).
    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Closes both directions now.
    public func closeNow() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Reads what arrives within about 100 ms: bytes, or empty on a timeout or when closed.
    public func receive() -> [UInt8] {
        guard !closedByPeer else { return [] }
        var scratch = [UInt8](repeating: 0, count: 65_536)
        let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return Array(scratch[0..<count]) }
        if count == 0 || !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { closedByPeer = true }
        return []
    }
}

/// A UDP socket connected to 127.0.0.1:`port`, for talking to a time channel by hand.
public final class BlockingDatagramSocket {
    private let fd: Int32

    public init(port: Int) throws {
        guard let connected = loopbackSocket(SOCK_DGRAM, port: port) else { throw POSIXError(.ECONNREFUSED) }
        fd = connected
    }

    deinit { close(fd) }

    /// Sends one datagram.
    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The next datagram to arrive within `seconds`, or nil.
    public func receive(seconds: Double) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var scratch = [UInt8](repeating: 0, count: 2048)
        let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? Array(scratch[0..<count]) : nil
    }
}
