import Foundation
import Testing
import TuttiHarness
import TuttiTestSupport
import TuttiTiming

/// The proxy's delay model: a sharp floor unless asked for a noisy one, power save or a roam;
/// and the proxy itself, a different model each way (an asymmetric path).
@Suite struct JitterModelTests {
    static func fastest(_ model: JitterModel) -> (minimum: Int64, percentile1: Int64) {
        var random = SeededRandom(seed: 3)
        let delays = (0..<20_000).map { _ in model.delay(&random) }.sorted()
        return (delays[0], delays[200])
    }

    @Test func aNoisyFloorSpreadsTheFastestDelays() {
        let sharp = Self.fastest(JitterModel(spikeProbability: 0))
        let noisy = Self.fastest(JitterModel(spikeProbability: 0, floorNoiseMicroseconds: 500))
        // Sharp: the fastest 1 % within ~60 µs of the 1 ms floor; noisy: never below it, but
        // spread over hundreds of µs.
        #expect(sharp.minimum >= 1_000_000 && sharp.percentile1 - 1_000_000 < 60_000)
        #expect(noisy.minimum >= 1_000_000 && noisy.percentile1 - 1_000_000 > 150_000)
        #expect(JitterModel(floorNoiseMicroseconds: 500).description.hasSuffix("a floor noisy by 0–500 µs"))
    }

    @Test func powerSaveHoldsAShareUntilABeaconAndARoamRaisesTheFloorFromItsMoment() {
        var saving = JitterModel(meanJitterMilliseconds: 0, spikeProbability: 0)
        saving.powerSaveProbability = 0.2
        var random = SeededRandom(seed: 5)
        // Writes 7 ms apart: about a fifth held, each until the next 102.4 ms beacon.
        let held = (0..<10_000).map { i -> (at: Int64, delay: Int64) in
            let now = Int64(i) * 7_000_000
            return (now, saving.delay(&random, now: now))
        }.filter { $0.delay > 1_000_000 }
        #expect(held.count > 1_700 && held.count < 2_300)
        #expect(held.allSatisfy { ($0.at + $0.delay) % saving.beaconNanoseconds == 0 && $0.delay <= 1_000_000 + saving.beaconNanoseconds })

        var roam = JitterModel(spikeProbability: 0)
        roam.floorStepAfterNanoseconds = 30_000_000_000
        roam.floorStepNanoseconds = 3_000_000
        var before = SeededRandom(seed: 6), after = SeededRandom(seed: 6)
        let early = (0..<2_000).map { _ in roam.delay(&before, elapsed: 29_000_000_000) }
        let late = (0..<2_000).map { _ in roam.delay(&after, elapsed: 30_000_000_000) }
        #expect(early.min()! < 1_100_000 && late.min()! >= 4_000_000)
        #expect(zip(early, late).allSatisfy { $1 - $0 == 3_000_000 })
        #expect(roam.description.contains("the floor +3.0 ms after 30 s") && saving.description.contains("20% held to the next 102.4 ms beacon"))
    }

    @Test func theProxyDelaysEachWayByItsOwnModel() throws {
        let echo = try StampingEcho()
        defer { echo.stop() }
        var down = JitterModel.none
        down.baseNanoseconds = 40_000_000
        let proxy = try JitterProxy(upstreamPort: echo.port, model: .none, downModel: down, seed: 1)
        defer { proxy.stop() }
        let client = try BlockingSocket(port: proxy.port)
        let sent = monotonicNanos()
        client.send([1, 2, 3])
        var received: [UInt8] = []
        while received.count < 3, monotonicNanos() - sent < 2_000_000_000 { received += client.receive() }
        let back = monotonicNanos()
        let up = (echo.firstArrival ?? .max) - sent
        // Up undelayed (a few ms at most on a busy machine), down 40 ms.
        #expect(received == [1, 2, 3])
        #expect(up < 20_000_000, "up took \(up / 1_000_000) ms")
        #expect(back - sent >= 40_000_000 && back - sent < 140_000_000, "the round trip took \((back - sent) / 1_000_000) ms")
    }
}

/// A one-connection server on loopback that stamps when each piece arrives and echoes it.
final class StampingEcho: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let stamps = NSLock()
    private var arrivals: [Int64] = []

    init() throws {
        (listener, port) = try listenOnLoopback(backlog: 4)
        Thread.detachNewThread { [self] in serve() }
    }

    var firstArrival: Int64? { stamps.withLock { arrivals.first } }

    private func serve() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            stamps.withLock { arrivals.append(monotonicNanos()) }
            _ = buffer.withUnsafeBytes { send(connection, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
        }
        close(connection)
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
