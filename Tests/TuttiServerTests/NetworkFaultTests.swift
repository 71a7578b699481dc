import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// Faults on the network between the server and a speaker, injected by a relay on loopback
/// (``JitterProxy``): a link that stalls for seconds, and one that is cut (every connection
/// reset, new ones refused) and comes back. The speaker is a real `tutti speaker` process
/// playing to a pipe; when it plays again is read from outside, from the arrival times of its
/// output.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct NetworkFaultTests {
    /// Seconds after `instant` until the speaker's output carries sound again (a 20 ms stretch
    /// with a peak above −50 dBFS), or nil.
    static func soundAgain(_ speaker: ChildProcess, after instant: Int64) -> Double? {
        var window: [UInt8] = []
        for read in speaker.reads where read.arrival > instant {
            window += read.bytes
            guard window.count >= 48_000 / 50 * 4 else { continue }
            var peak = 0
            for index in stride(from: 0, to: window.count / 2 * 2, by: 2) {
                peak = max(peak, abs(Int(Int16(bitPattern: UInt16(window[index]) | UInt16(window[index + 1]) << 8))))
            }
            if peak > 100 { return Double(read.arrival - instant) / 1e9 }
            window = []
        }
        return nil
    }

    /// Whether the speaker's output was silent or absent at some point after `instant`, i.e.
    /// the fault did reach it (so the recovery measured is a recovery).
    static func lostSound(_ speaker: ChildProcess, after instant: Int64) -> Bool {
        let reads = speaker.reads.filter { $0.arrival > instant }
        let gaps = zip(reads, reads.dropFirst()).contains { $1.arrival - $0.arrival > 300_000_000 }
        let silent = reads.contains { read in
            read.bytes.count >= 4 && stride(from: 0, to: read.bytes.count - 1, by: 2).allSatisfy { read.bytes[$0] == 0 && read.bytes[$0 + 1] == 0 }
        }
        return gaps || silent
    }

    @Test func aSpeakerPlaysAgainAfterItsLinkStallsAndAfterItIsCut() async throws {
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let proxy = try JitterProxy(upstreamPort: ports.stream, model: .none, seed: 1)
            defer { proxy.stop() }
            let speaker = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(proxy.port)", "--id", "kitchen", "--output", "pipe:stdout"])
            defer { speaker.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["kitchen"], rpc)
            try #require(waitUntil(seconds: 10) { Self.soundAgain(speaker, after: 0) != nil }, "\(speaker.errorText)")
            try await Task.sleep(for: .seconds(2))

            // A 3 s stall, longer than the 1 s buffer: the speaker runs dry, then plays on.
            let stalled = monotonicNanos()
            proxy.stall(seconds: 3)
            try await Task.sleep(for: .seconds(3))
            let resumed = monotonicNanos()
            try await Task.sleep(for: .seconds(4))
            #expect(Self.lostSound(speaker, after: stalled), "the stall never reached the speaker")
            let afterStall = try #require(Self.soundAgain(speaker, after: resumed), "no sound after the stall: \(speaker.errorText.suffix(1500))")
            print("network fault: sound again \(String(format: "%.2f", afterStall)) s after a 3 s stall ended")
            #expect(afterStall < 2.5)

            // Cut: every connection reset and the network down for 3 s; then it comes back.
            let cut = monotonicNanos()
            proxy.cut(down: true)
            try await Task.sleep(for: .seconds(3))
            proxy.cut(down: false)
            let restored = monotonicNanos()
            try await Task.sleep(for: .seconds(8))
            #expect(Self.lostSound(speaker, after: cut), "the cut never reached the speaker")
            let afterCut = try #require(Self.soundAgain(speaker, after: restored), "no sound after the cut: \(speaker.errorText.suffix(1500))")
            print("network fault: sound again \(String(format: "%.2f", afterCut)) s after a 3 s cut ended")
            // It reconnects with backoff (at most 2 s between tries after a 3 s outage) and
            // starts playing a buffer's length (1 s) later.
            #expect(afterCut < 4)
            let status = try ControlAPIServerTests.waitForSpeakers(["kitchen"], rpc)
            #expect(ControlAPIServerTests.clients(status).first { $0["id"] == "kitchen" }?["connected"] == true)
        }
    }
}
