import Foundation
import Testing
import TuttiTestSupport

/// `tutti bench sim`: runs the simulation over seeds and prints its table; bad options are a
/// usage error, not a crash.
@Suite(.enabled(if: Peers.tutti != nil, "needs the built tutti executable"))
struct SimulationBenchTests {
    @Test func printsTheTableForEverySeed() throws {
        let bench = try ChildProcess(
            Peers.tutti!, ["bench", "sim", "--seeds", "2", "--seconds", "12", "--settle-s", "5", "--join-at-s", "4"])
        let status = bench.waitForExit(seconds: 120)
        let text = String(decoding: bench.output, as: UTF8.self)
        #expect(status == 0, "\(text)\n\(bench.errorText.suffix(2000))")
        #expect(text.contains("| over 2 seeds | p50 | p90 | max |"))
        let joinRow = text.split(separator: "\n").first { $0.contains("joiner: within 1 ms") }
        // A number, not "never": the joiner got within 1 ms in both 8-second runs.
        #expect(joinRow.map { !$0.contains("never") } ?? false, "\(text)")
        #expect(text.contains("hard syncs 0, underruns 0"), "\(text)")
    }

    @Test func rejectsImpossibleOptions() throws {
        let bench = try ChildProcess(Peers.tutti!, ["bench", "sim", "--seconds", "10", "--join-at-s", "20"])
        #expect(bench.waitForExit(seconds: 30) == 64)
        #expect(bench.errorText.contains("--join-at-s"))
    }
}
