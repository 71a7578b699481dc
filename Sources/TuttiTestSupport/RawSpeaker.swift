import Foundation
import NIOCore
import TuttiWire

/// A minimal Snapcast-protocol peer on a blocking socket, for tests that need to send exact
/// (or exactly wrong) bytes and see what the server sends back. All reads time out.
public final class RawSpeaker {
    private let fd: Int32
    private var inbound = ByteBuffer()
    private(set) var closedByPeer = false

    /// Connects to 127.0.0.1:`port`; `receiveBufferSize` shrinks SO_RCVBUF (for a stuck speaker).
    public init(port: Int, receiveBufferSize: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    public func send(_ frame: SnapFrame) { send(Array(frame.encoded().readableBytesView)) }

    public func hello(id: String, instance: Int = 1) {
        send(SnapFrame(id: 1, message: .hello(Hello(mac: "02:00:00:00:00:01", hostName: "test", instance: instance, id: id))))
    }

    /// Half-closes nothing: just closes the socket now.
    public func closeNow() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Reads frames for up to `seconds`, or until `until` returns true for the frames read so far.
    public func readFrames(seconds: Double, until: ([SnapFrame]) -> Bool = { _ in false }) throws -> [SnapFrame] {
        var frames: [SnapFrame] = []
        let deadline = Date().addingTimeInterval(seconds)
        var scratch = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline, !closedByPeer, !until(frames) {
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { closedByPeer = true; break }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                closedByPeer = true
                break
            }
            inbound.writeBytes(scratch[0..<count])
            while let frame = try SnapFrameDecoder().next(from: &inbound) { frames.append(frame) }
        }
        return frames
    }

    /// Waits up to `seconds` for the server to close the connection; true if it did.
    public func waitForClose(seconds: Double) -> Bool {
        _ = try? readFrames(seconds: seconds)
        return closedByPeer
    }
}

public extension [SnapFrame] {
    /// Timestamps (µs) of the WireChunks among these frames, in order.
    var chunkTimestamps: [Int64] {
        compactMap { if case .wireChunk(let chunk) = $0.message { chunk.timestamp.microseconds } else { nil } }
    }
}
