import Foundation
import Testing
import TuttiMeasure

@Test func timingProbe() {
    let clock = ContinuousClock()
    for (blocks, piece) in [(2400, 65536), (480, 8192)] {
        let players = SyncAnalysisTests.threePlayers(blockFrames: blocks, pieceBytes: piece)
        let captures = players.map { $0.capture(source: SyncAnalysisTests.source, scheduleOrigin: SyncAnalysisTests.scheduleOrigin) }
        let start = clock.now
        let report = SyncAnalysis.analyze(captures, startedAt: SyncAnalysisTests.startedAt, settleAfter: SyncAnalysisTests.startedAt + 2_000_000_000)
        print("TIMING 10 s × 3, blocks \(blocks): \(clock.now - start), windows \(report.comparedWindows)")
    }
    if ProcessInfo.processInfo.environment["LONG"] != nil {
        let source = MusicLikeSignal.render(seconds: 62)
        let players = (0..<6).map { i in SimulatedPlayer(name: "p\(i)", delayNanoseconds: Double(i * 7_000 - 20_000), ppm: Double(i * 40 - 100), blockFrames: i % 2 == 0 ? 2400 : 480, outputStart: Double(SyncAnalysisTests.startedAt) + 1e7 * Double(i), outputSeconds: 60, readPieceBytes: 8192, seed: UInt64(i + 30)) }
        let captures = players.map { $0.capture(source: source, scheduleOrigin: SyncAnalysisTests.scheduleOrigin) }
        let start = clock.now
        let report = SyncAnalysis.analyze(captures, startedAt: SyncAnalysisTests.startedAt, settleAfter: SyncAnalysisTests.startedAt + 2_000_000_000)
        print("TIMING 60 s × 6: \(clock.now - start), windows \(report.comparedWindows)")
        print(report.textTable())
    }
}
