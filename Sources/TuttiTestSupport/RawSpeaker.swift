import Foundation
import NIOCore
import TuttiWire

/// A minimal Snapcast-protocol peer on a blocking socket, for tests that need to send exact
/// (or exactly wrong) bytes and see what the server sends back. All reads time out.
public final class RawSpeaker {
    private let socket: BlockingSocket
    private var inbound = ByteBuffer()
    var closedByPeer: Bool { socket.closedByPeer }

    /// Connects to 127.0.0.1:`port`; `receiveBufferSize` shrinks SO_RCVBUF (for a stuck speaker).
    public init(port: Int, receiveBufferSize: Int32? = nil) throws {
        socket = try BlockingSocket(port: port, receiveBufferSize: receiveBufferSize)
    }

    public func send(_ bytes: [UInt8]) { socket.send(bytes) }

    public func send(_ frame: SnapFrame) { send(Array(frame.encoded().readableBytesView)) }

    public func hello(id: String, instance: Int = 1, capabilities: [String] = []) {
        send(SnapFrame(id: 1, message: .hello(Hello(mac: "02:00:00:00:00:01", hostName: "test", instance: instance, id: id, capabilities: capabilities))))
    }

    /// Half-closes nothing: just closes the socket now.
    public func closeNow() { socket.closeNow() }

    /// Reads frames for up to `seconds`, or until `until` returns true for the frames read so far.
    public func readFrames(seconds: Double, until: ([SnapFrame]) -> Bool = { _ in false }) throws -> [SnapFrame] {
        var frames: [SnapFrame] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !closedByPeer, !until(frames) {
            inbound.writeBytes(socket.receive())
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
