import Foundation
import Testing
import TuttiHarness
import TuttiMeasure
import TuttiTestSupport

/// A speaker host whose clock steps by seconds while it plays (a clock set by hand, or by an
/// NTP client allowed to step). Tutti reads CLOCK_MONOTONIC, which NTP slews but never steps,
/// so this takes a broken host or a virtual machine resumed; the speakers' simulated clocks
/// (`--clock-step=AFTER:BY`) make it happen on cue. One speaker's clock jumps 5 s ahead,
/// another's 5 s back, a third's stays: each stepped speaker must be back in sync with the
/// third, measured from outside (their pipe output's arrival times), and the third must never
/// notice.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct ClockStepTests {
    static let stepAfter = 6.0

    /// The longest stretch (s) of a speaker's output with no write or only silent ones.
    static func longestQuiet(_ reads: [ChildProcess.Read]) -> Double {
        var longest: Int64 = 0
        var quietSince: Int64?
        var previous: Int64?
        for read in reads {
            if let previous, read.arrival - previous > 100_000_000 { longest = max(longest, read.arrival - previous) }
            if read.bytes.allSatisfy({ $0 == 0 }) {
                if quietSince == nil { quietSince = read.arrival }
            } else if let since = quietSince {
                longest = max(longest, read.arrival - since)
                quietSince = nil
            }
            previous = read.arrival
        }
        return Double(longest) / 1e9
    }

    @Test func speakersWhoseClocksStepBySecondsAreBackInSyncAndTheOthersPlayOn() async throws {
        try await withServerPorts(sources: ["tone://?name=default&kind=music&codec=pcm"]) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            func speaker(_ id: String, _ extra: [String] = []) throws -> ChildProcess {
                try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", id, "--output", "pipe:stdout"] + extra)
            }
            let startedAt = monotonicNanos()
            let reference = try speaker("steady")
            let launchedAt = monotonicNanos()
            let ahead = try speaker("ahead", ["--clock-step=\(Self.stepAfter):5"])
            let behind = try speaker("behind", ["--clock-step=\(Self.stepAfter):-5"])
            let speakers = [reference, ahead, behind]
            defer { speakers.forEach { $0.stop() } }
            _ = try ControlAPIServerTests.waitForSpeakers(["steady", "ahead", "behind"], rpc)
            try await Task.sleep(for: .seconds(Self.stepAfter + 12))
            speakers.forEach { $0.stop() }
            // The step comes `stepAfter` after the speaker's clock is made, just after its launch.
            let steppedAt = Double(launchedAt - startedAt) / 1e9 + Self.stepAfter

            // The steady speaker never stops: no pause between its writes, no silent write, once it plays.
            let played = reference.reads.drop { $0.bytes.allSatisfy { $0 == 0 } }
            let longestPause = zip(played, played.dropFirst()).map { $1.arrival - $0.arrival }.max() ?? .max
            #expect(longestPause < 100_000_000, "the steady speaker paused \(longestPause / 1_000_000) ms")
            #expect(!played.dropLast().contains { $0.bytes.count >= 64 && $0.bytes.allSatisfy { $0 == 0 } }, "the steady speaker went silent")
            Self.expectBackInSync("ahead", ahead, reference: reference, startedAt: startedAt, steppedAt: steppedAt)
            Self.expectBackInSync("behind", behind, reference: reference, startedAt: startedAt, steppedAt: steppedAt)
        }
    }

    static func capture(_ name: String, _ process: ChildProcess) -> PlayerCapture {
        PlayerCapture(name: name, reads: process.reads.map { CaptureRead(arrival: $0.arrival, bytes: $0.bytes) }, leadNanoseconds: 5_000_000)
    }

    /// The first moment (s after the step) after which every window is within `bound` µs.
    static func since(_ bound: Double, _ after: [DeviationPoint], steppedAt: Double) -> Double {
        (after.last { $0.microseconds >= bound }?.seconds ?? steppedAt) - steppedAt
    }

    static func expectBackInSync(_ name: String, _ process: ChildProcess, reference: ChildProcess, startedAt: Int64, steppedAt: Double) {
        let report = SyncAnalysis.analyze([capture("steady", reference), capture(name, process)], startedAt: startedAt, settleAfter: startedAt + 3_000_000_000)
        let before = report.skewSeries.filter { $0.seconds > 3 && $0.seconds < steppedAt }
        let after = report.skewSeries.filter { $0.seconds > steppedAt }
        // Back in sync: within 1 ms (no audible echo), and within 100 µs (the sync goal; the
        // estimate restarts on a step, so this takes about as long as a joining speaker's).
        let audible = since(1000, after, steppedAt: steppedAt), recovered = since(100, after, steppedAt: steppedAt)
        let soon = after.filter { $0.seconds > steppedAt + 2 }.map(\.microseconds)
        let tail = after.filter { $0.seconds > steppedAt + 8 }.map(\.microseconds).sorted()
        let quiet = longestQuiet(process.reads.filter { Double($0.arrival - startedAt) / 1e9 > steppedAt - 0.5 })
        let figures = String(
            format: "before, max %.0f µs; silent %.2f s; within 1 ms %.2f s and within 100 µs %.2f s after the step; from 8 s after: %d windows, p50 %.0f µs, max %.0f µs",
            before.map(\.microseconds).max() ?? -1, quiet, audible, recovered, tail.count, tail.isEmpty ? -1 : tail[tail.count / 2], tail.last ?? -1)
        print("clock step \(name): \(figures)")
        // Before: playing together (the estimates still young in the first seconds).
        #expect(before.count > 10 && before.allSatisfy { $0.microseconds < 1000 }, "\(name): not in sync before the step")
        #expect(process.errorText.contains("clock estimate restarted"), "\(name): the step went unnoticed: \(process.errorText.suffix(1500))")
        #expect(soon.count >= 50 && soon.allSatisfy { $0 < 1000 }, "\(name): not audibly in sync 2 s after the step (\(soon.count) windows, max \(soon.max() ?? -1) µs)")
        #expect(quiet < 2, "\(name): silent \(quiet) s")
        #expect(tail.count >= 20 && tail[tail.count / 2] < 100, "\(name): not back to the sync goal 8 s after the step: \(tail)")
    }
}
