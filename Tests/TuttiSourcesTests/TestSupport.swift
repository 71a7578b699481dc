#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Testing
import TuttiAudio
@testable import TuttiSources
import TuttiTiming

/// A logger for sources under test (the default handler: info and above, to stdout).
let testLogger = Logger(label: "tutti.sources.tests")

/// A fresh directory under /tmp, removed by `removeDirectory`.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/tutti-sources-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Removes a directory made by `makeTemporaryDirectory` and the files in it (not recursive).
func removeDirectory(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { unlink("\(path)/\(name)") }
        }
        closedir(directory)
    }
    rmdir(path)
}

/// Writes `bytes` to a new file at `path`.
func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0)
    bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Reads from `source` until `count` bytes came, `.ended`, or `budget` nanoseconds passed.
func readBytes(from source: PCMSource, count: Int, budget: Int64 = 5 * .nanosPerSecond) throws -> [UInt8] {
    let clock = MonotonicClock()
    let giveUp = clock.now() + budget
    var collected: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: max(count, 1))
    while collected.count < count, clock.now() < giveUp {
        let want = count - collected.count
        let result = try buffer.withUnsafeMutableBytes { raw in
            try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), timeoutNanoseconds: 100 * .nanosPerMillisecond)
        }
        switch result {
        case .bytes(let n): collected += buffer[0..<n]
        case .timedOut: continue
        case .ended: return collected
        }
    }
    return collected
}

/// One read with a short buffer; for checking that a source times out.
func readOnce(from source: PCMSource, timeout: Int64, bufferSize: Int = 256) throws -> SourceRead {
    var buffer = [UInt8](repeating: 0, count: bufferSize)
    return try buffer.withUnsafeMutableBytes { try source.read(into: $0, timeoutNanoseconds: timeout) }
}

/// A deterministic byte pattern.
func pattern(count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7) }
}

/// Plain blocking socket helpers for the peers the tests play.
enum TestSocket {
    /// Connects to 127.0.0.1:`port`; -1 on failure.
    static func connectToLoopback(port: Int) -> Int32 {
        let fd = socket(AF_INET, POSIX.streamSocketType, 0)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// A socket listening on 127.0.0.1 at a free port, and that port.
    static func listenOnLoopback() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, POSIX.streamSocketType, 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 4)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: bound.sin_port)))
    }

    /// Accepts one connection, waiting at most `timeoutMilliseconds`; -1 on timeout.
    static func acceptOne(_ listener: Int32, timeoutMilliseconds: Int32) -> Int32 {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 1, timeoutMilliseconds) == 1 else { return -1 }
        return accept(listener, nil, nil)
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
