import Foundation
import Synchronization
import TuttiTiming

/// How a ``JitterProxy`` delays traffic: a base delay, exponentially distributed jitter, and
/// rare long spikes — what a busy Wi-Fi link does to a TCP stream (a spike delays everything
/// behind it, as TCP retransmission does) — and, each off by default, the ways real networks are
/// worse (DESIGN.md, "Real networks"), as the sync simulation's `VirtualNetwork` models them: a
/// noisy floor, Wi-Fi power save holding a share of writes until the next beacon, and a step of
/// the floor (a roam).
public struct JitterModel: Sendable, CustomStringConvertible {
    public var baseNanoseconds: Int64
    public var meanJitterNanoseconds: Int64
    public var spikeProbability: Double
    public var spikeNanoseconds: Int64
    /// Each write's floor is higher by a uniform 0…this: a noisy floor, as on Wi-Fi (0: sharp).
    public var floorNoiseNanoseconds: Int64
    /// Share of writes a power-saving station holds until the next beacon …
    public var powerSaveProbability: Double = 0
    /// … every this (102.4 ms: 100 TU), on the monotonic clock.
    public var beaconNanoseconds: Int64 = 102_400_000
    /// From this long after the proxy started, the floor is higher by ``floorStepNanoseconds``
    /// (a roam to another access point); nil: never.
    public var floorStepAfterNanoseconds: Int64?
    public var floorStepNanoseconds: Int64 = 0

    public init(
        baseMilliseconds: Double = 1, meanJitterMilliseconds: Double = 5, spikeProbability: Double = 0.01, spikeMilliseconds: Double = 100,
        floorNoiseMicroseconds: Double = 0
    ) {
        floorNoiseNanoseconds = Int64(floorNoiseMicroseconds * 1e3)
        baseNanoseconds = Int64(baseMilliseconds * 1e6)
        meanJitterNanoseconds = Int64(meanJitterMilliseconds * 1e6)
        self.spikeProbability = spikeProbability
        spikeNanoseconds = Int64(spikeMilliseconds * 1e6)
    }

    /// No added delay at all.
    public static let none = JitterModel(baseMilliseconds: 0, meanJitterMilliseconds: 0, spikeProbability: 0, spikeMilliseconds: 0)

    /// One write's delay (ns), for a write at monotonic instant `now`, `elapsed` after the proxy
    /// started. The features that are off draw no random numbers.
    public func delay(_ random: inout SeededRandom, now: Int64 = 0, elapsed: Int64 = 0) -> Int64 {
        var delay = baseNanoseconds
        if meanJitterNanoseconds > 0 { delay += Int64(random.exponential(mean: Double(meanJitterNanoseconds))) }
        if spikeProbability > 0, random.chance(spikeProbability) { delay += spikeNanoseconds }
        if floorNoiseNanoseconds > 0 { delay += Int64(random.uniform(0...Double(floorNoiseNanoseconds))) }
        if let after = floorStepAfterNanoseconds, elapsed >= after { delay += floorStepNanoseconds }
        if powerSaveProbability > 0, beaconNanoseconds > 0, random.chance(powerSaveProbability) {
            // Held at the access point until the next beacon after it would have arrived.
            let arrival = now + delay
            delay += beaconNanoseconds - ((arrival % beaconNanoseconds) + beaconNanoseconds) % beaconNanoseconds
        }
        return delay
    }

    public var description: String {
        String(format: "%.1f ms + exp(%.1f ms), %.1f%% spikes of %.0f ms", Double(baseNanoseconds) / 1e6,
               Double(meanJitterNanoseconds) / 1e6, spikeProbability * 100, Double(spikeNanoseconds) / 1e6)
            + (floorNoiseNanoseconds > 0 ? String(format: ", a floor noisy by 0–%.0f µs", Double(floorNoiseNanoseconds) / 1e3) : "")
            + (powerSaveProbability > 0 ? String(format: ", %.0f%% held to the next %.1f ms beacon", powerSaveProbability * 100, Double(beaconNanoseconds) / 1e6) : "")
            + (floorStepAfterNanoseconds.map { String(format: ", the floor +%.1f ms after %.0f s", Double(floorStepNanoseconds) / 1e6, Double($0) / 1e9) } ?? "")
    }
}

/// A TCP relay on 127.0.0.1 that delays each direction of every connection by a ``JitterModel``,
/// keeping byte order — and, on the same port number, a UDP relay that delays each datagram by
/// the same models, each on its own (datagrams keep no order), so Tutti's time channel crosses
/// the same network as the stream. `tc netem` is not available on these machines; this stands
/// in for it. Each connection uses two threads, the datagrams one; everything stops on
/// ``stop()``.
public final class JitterProxy: @unchecked Sendable {
    /// The port speakers connect to.
    public let port: Int
    private let listener: Int32
    /// The UDP relay's socket on `port`; nil when datagrams are not relayed.
    private let datagrams: Int32?
    private let upstreamPort: Int
    private let model: JitterModel
    private let downModel: JitterModel
    private let seed: UInt64
    private let startedAt = monotonicNanos()
    private let stopped = Mutex(false)
    private let sockets = Mutex<[Int32]>([])
    /// Faults: nothing is delivered before `heldUntil` (a stalled link; what arrived meanwhile
    /// follows in a burst, as TCP retransmission delivers it); while `down`, new connections
    /// are closed at once (no route).
    private let faults = Mutex<(heldUntil: Int64, down: Bool)>((0, false))

    /// - Parameter downModel: the way from the server back, when it differs from `model` (which
    ///   is then the way up only): Wi-Fi's two directions rarely behave alike.
    ///   `relayDatagrams`: false leaves the port's UDP side closed (a network that blocks UDP).
    public init(upstreamPort: Int, model: JitterModel, downModel: JitterModel? = nil, seed: UInt64, relayDatagrams: Bool = true) throws {
        self.upstreamPort = upstreamPort
        self.model = model
        self.downModel = downModel ?? model
        self.seed = seed
        var attempts = 0
        while true {
            let (fd, port) = try listenOnLoopback(backlog: 16)
            guard relayDatagrams else {
                (listener, self.port, datagrams) = (fd, port, nil)
                break
            }
            // The same port number for UDP; another process may hold it: then another port.
            if let udp = loopbackSocket(SOCK_DGRAM, port: port, bind: true) {
                (listener, self.port, datagrams) = (fd, port, udp)
                break
            }
            close(fd)
            attempts += 1
            guard attempts < 20 else { throw POSIXError(.EADDRINUSE) }
        }
        Thread.detachNewThread { [self] in acceptLoop() }
        if let datagrams { Thread.detachNewThread { [self] in datagramLoop(on: datagrams) } }
    }

    /// Closes the listener and every relayed connection.
    public func stop() {
        stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        sockets.withLock { $0.forEach { shutdown($0, Int32(SHUT_RDWR)) } }
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    /// Holds everything in both directions of every connection for `seconds` (a stalled link).
    public func stall(seconds: Double) {
        let until = monotonicNanos() + Int64(seconds * 1e9)
        faults.withLock { $0.heldUntil = max($0.heldUntil, until) }
    }

    /// Cuts every connection now (as a reset would) and, while `down`, every new one.
    public func cut(down: Bool) {
        faults.withLock { $0.down = down }
        guard down else { return }
        let open = sockets.withLock { current in
            defer { current = [] }
            return current
        }
        open.forEach { shutdown($0, Int32(SHUT_RDWR)) }
    }

    private var heldUntil: Int64 { faults.withLock { $0.heldUntil } }
    private var isDown: Bool { faults.withLock { $0.down } }

    private func acceptLoop() {
        var connection: UInt64 = 0
        while !isStopped {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if errno == EINTR { continue } else { return } }
            if isDown {
                close(client)
                continue
            }
            guard let upstream = loopbackSocket(SOCK_STREAM, port: upstreamPort) else {
                close(client)
                continue
            }
            var one: Int32 = 1
            for fd in [client, upstream] { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) }
            sockets.withLock { $0 += [client, upstream] }
            connection += 1
            let up = seed &+ connection &* 2, down = seed &+ connection &* 2 &+ 1
            Thread.detachNewThread { [self] in relay(from: client, to: upstream, model: model, seed: up) }
            Thread.detachNewThread { [self] in relay(from: upstream, to: client, model: downModel, seed: down) }
        }
    }

    /// Reads from `source` and writes each piece to `destination` once its delay has passed.
    private func relay(from source: Int32, to destination: Int32, model: JitterModel, seed: UInt64) {
        // The model's delays are the floor; default timer slack would add ~50 µs to most of them.
        requestPreciseWakeups()
        var random = SeededRandom(seed: seed)
        var pending: [(due: Int64, bytes: [UInt8])] = []
        var lastDue: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var open = true
        defer {
            shutdown(destination, Int32(SHUT_WR))
        }
        while open || !pending.isEmpty {
            let now = monotonicNanos()
            let held = heldUntil
            while let first = pending.first, first.due <= now, held <= now {
                guard writeAll(destination, first.bytes) else { return }
                pending.removeFirst()
            }
            // Wait for bytes or the next due piece without spinning: poll counts whole
            // milliseconds, so the last sub-millisecond is slept precisely with nanosleep.
            let wait = min(pending.first.map { max(0, max($0.due, held) - now) } ?? 100_000_000, 100_000_000)
            if !open || (wait > 0 && wait < 1_000_000) {
                var timeout = timespec(tv_sec: 0, tv_nsec: Int(min(wait, 999_999)))
                nanosleep(&timeout, nil)
                if !open { continue }
            }
            var poller = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, wait < 1_000_000 ? 0 : Int32(wait / 1_000_000))
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count <= 0 {
                    open = false
                    continue
                }
                let arrived = monotonicNanos()
                let due = max(lastDue, arrived + model.delay(&random, now: arrived, elapsed: arrived - startedAt))
                lastDue = due
                pending.append((due, Array(buffer[0..<count])))
            } else if isStopped {
                return
            }
        }
    }

    /// Relays datagrams between clients and the upstream port: each client gets a socket of its
    /// own toward the server (so replies find their way back), and each datagram is delayed by
    /// its direction's model on its own — a datagram never waits for an earlier one.
    private func datagramLoop(on socketFD: Int32) {
        requestPreciseWakeups()
        var upRandom = SeededRandom(seed: seed ^ 0x5544_5055), downRandom = SeededRandom(seed: seed ^ 0x5544_5044)
        var upstreams: [UInt64: Int32] = [:]
        var clients: [Int32: sockaddr_in] = [:]
        // Sorted by due time; `to` is a client's address (down) or nil (up, on a connected socket).
        var pending: [(due: Int64, fd: Int32, to: sockaddr_in?, bytes: [UInt8])] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer {
            close(socketFD)
            upstreams.values.forEach { close($0) }
        }
        while !isStopped {
            let now = monotonicNanos()
            let held = heldUntil
            while let first = pending.first, first.due <= now, held <= now {
                pending.removeFirst()
                _ = first.bytes.withUnsafeBytes { bytes in
                    if var to = first.to {
                        withUnsafePointer(to: &to) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(first.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                    } else {
                        send(first.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT))
                    }
                }
            }
            let wait = min(pending.first.map { max(0, max($0.due, held) - now) } ?? 100_000_000, 100_000_000)
            if wait > 0, wait < 1_000_000 {
                var timeout = timespec(tv_sec: 0, tv_nsec: Int(wait))
                nanosleep(&timeout, nil)
            }
            var pollers = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)] + upstreams.values.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&pollers, nfds_t(pollers.count), wait < 1_000_000 ? 0 : Int32(wait / 1_000_000)) > 0 else { continue }
            for poller in pollers where poller.revents & Int16(POLLIN) != 0 {
                while true {
                    var from = sockaddr_in()
                    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                    let count = buffer.withUnsafeMutableBytes { bytes in
                        withUnsafeMutablePointer(to: &from) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(poller.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, &length) }
                        }
                    }
                    guard count >= 0 else { break }
                    let arrived = monotonicNanos()
                    let item: (due: Int64, fd: Int32, to: sockaddr_in?, bytes: [UInt8])
                    if poller.fd == socketFD {
                        if isDown { continue }
                        let key = UInt64(from.sin_addr.s_addr) << 16 | UInt64(from.sin_port)
                        let upstream: Int32
                        if let known = upstreams[key] {
                            upstream = known
                        } else {
                            guard let made = loopbackSocket(SOCK_DGRAM, port: upstreamPort) else { continue }
                            upstreams[key] = made
                            clients[made] = from
                            upstream = made
                        }
                        item = (arrived + model.delay(&upRandom, now: arrived, elapsed: arrived - startedAt), upstream, nil, Array(buffer[0..<count]))
                    } else {
                        guard let client = clients[poller.fd] else { continue }
                        item = (arrived + downModel.delay(&downRandom, now: arrived, elapsed: arrived - startedAt), socketFD, client, Array(buffer[0..<count]))
                    }
                    let index = pending.lastIndex { $0.due <= item.due }.map { $0 + 1 } ?? 0
                    pending.insert(item, at: index)
                }
            }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}

/// A TCP listener on 127.0.0.1 at a free port (SO_REUSEADDR): its descriptor and port.
public func listenOnLoopback(backlog: Int32) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0, listen(fd, backlog) == 0 else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) connected to 127.0.0.1:`port`, or bound to it
/// when `bind` is true; `configure` sets its options first. Nil when that fails (nothing
/// listens, the port is taken).
public func loopbackSocket(_ type: __socket_type, port: Int, bind binding: Bool = false, configure: (Int32) -> Void = { _ in }) -> Int32? {
    let fd = socket(AF_INET, Int32(type.rawValue), 0)
    guard fd >= 0 else { return nil }
    configure(fd)
    var address = loopback(port: port)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            binding ? bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) : connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        close(fd)
        return nil
    }
    return fd
}

func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}
