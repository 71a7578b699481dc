#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization
import TuttiAudio
import TuttiOutputs

/// Sends a phone's Bluetooth audio to the server: the sound server makes a source of a phone
/// connected to the A2DP sink role; this records it (s16le, 48 kHz, stereo) and writes it to
/// the TCP port of the server's stream for that phone (a `tcp://…?mode=server` source). Runs
/// on a thread of its own until `stop()`; a source or a server that is not there yet is tried
/// again every second, and each new problem is logged once.
final class PhoneForwarder: Sendable {
    let phone: String
    let source: String
    let host: String
    let port: Int
    private let logger: Logger
    private let stopped = Atomic(false)

    init(phone: String, source: String, host: String, port: Int, logger: Logger) {
        self.phone = phone
        self.source = source
        self.host = host
        self.port = port
        self.logger = logger
    }

    func start() {
        Thread.detachNewThread { self.run() }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func run() {
        var lastProblem = ""
        while !isStopped {
            do {
                try forward()
            } catch {
                let problem = "\(error)"
                if problem != lastProblem { logger.warning("bluetooth: \(phone)'s audio does not reach the server: \(problem); trying again every second") }
                lastProblem = problem
            }
            if !isStopped { Thread.sleep(forTimeInterval: 1) }
        }
    }

    enum ForwardError: Error, CustomStringConvertible {
        case network(String)
        var description: String { switch self { case .network(let why): why } }
    }

    private func forward() throws {
        let recorder = try PulseRecorder(source: source, server: nil, format: .cd48k)
        defer { recorder.close() }
        let fd = try Self.connect(host: host, port: port)
        defer { close(fd) }
        logger.info("bluetooth: \(phone)'s audio (\(source)) goes to the server's stream at \(host):\(port)")
        // 10 ms at a time: what the sound server hands over.
        var buffer = [UInt8](repeating: 0, count: 48_000 / 100 * 4)
        while !isStopped {
            try buffer.withUnsafeMutableBytes { try recorder.read(into: $0) }
            var sent = 0
            while sent < buffer.count {
                let count = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw ForwardError.network("the server's stream closed the connection (\(String(cString: strerror(errno))))") }
                sent += count
            }
        }
    }

    /// A blocking TCP connection to `host:port`, with a 5 s send time-out so a stalled server
    /// cannot hold the thread forever.
    static func connect(host: String, port: Int) throws(ForwardError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let result = getaddrinfo(host, String(port), &hints, &list)
        guard result == 0, let list else { throw .network("cannot resolve \(host): \(String(cString: gai_strerror(result)))") }
        defer { freeaddrinfo(list) }
        var why = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(current.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return fd }
            why = String(cString: strerror(errno))
            close(fd)
        }
        throw .network("cannot connect to \(host):\(port): \(why)")
    }
}
