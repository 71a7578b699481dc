import Testing
import TuttiMeasure

/// The whole analysis against simulated players whose deviations are known exactly.
@Suite struct SyncAnalysisTests {
    static let startedAt: Int64 = 1_000_000_000_000
    /// The group schedule: source sample 0 plays 0.3 s after the start.
    static let scheduleOrigin = Double(startedAt) + 300_000_000
    static let source = MusicLikeSignal.render(seconds: 12)

    static func analyze(_ players: [SimulatedPlayer], settle: Double = 2) -> SyncReport {
        let captures = players.map { $0.capture(source: source, scheduleOrigin: scheduleOrigin) }
        return SyncAnalysis.analyze(captures, startedAt: startedAt, settleAfter: startedAt + Int64(settle * 1e9))
    }

    /// |recovered − true| deviation over the settled windows of one player: (p50, p99) in µs.
    /// Windows after 9.5 s are left out: the players stop one by one there, and with two left
    /// the group median is their mean.
    static func errors(_ result: PlayerSyncResult, truth: Double, after settle: Double = 2) -> (p50: Double, p99: Double) {
        let errors = result.series.filter { $0.seconds >= settle && $0.seconds <= 9.5 }.map { abs($0.microseconds - truth) }.sorted()
        return (DeviationStatistics.percentile(0.5, ofSorted: errors), DeviationStatistics.percentile(0.99, ofSorted: errors))
    }

    static func threePlayers(blockFrames: Int, pieceBytes: Int) -> [SimulatedPlayer] {
        [
            SimulatedPlayer(name: "on time", delayNanoseconds: 0, ppm: 100, gain: 1, blockFrames: blockFrames, outputStart: Double(startedAt) + 50e6, readPieceBytes: pieceBytes, seed: 11),
            SimulatedPlayer(name: "late 30", delayNanoseconds: 30_000, ppm: -100, gain: 0.5, blockFrames: blockFrames, outputStart: Double(startedAt) + 80e6, readPieceBytes: pieceBytes, seed: 12),
            SimulatedPlayer(name: "early 20", delayNanoseconds: -20_000, ppm: 37, gain: 0.8, blockFrames: blockFrames, outputStart: Double(startedAt) + 20e6, readPieceBytes: pieceBytes, seed: 13),
        ]
    }

    @Test(arguments: [(2400, 65_536), (2400, 8_192), (480, 65_536), (480, 1_024)])
    func recoversSubSampleDelaysDespiteClockErrorsAndReadJitter(blockFrames: Int, pieceBytes: Int) {
        let players = Self.threePlayers(blockFrames: blockFrames, pieceBytes: pieceBytes)
        let report = Self.analyze(players)
        let delays = players.map(\.delayNanoseconds)
        print("blocks \(blockFrames), reads of \(pieceBytes) bytes")
        print(report.textTable())
        for (player, result) in zip(players, report.players) {
            let truth = SimulatedPlayer.truth(player.delayNanoseconds, among: delays)
            let error = Self.errors(result, truth: truth)
            print("\(player.name): truth \(truth) µs, median \(result.medianDeviationMicroseconds ?? .nan), |error| p50 \(error.p50) p99 \(error.p99), ppm \(result.clockPPM) (true \(player.ppm))")
            #expect(result.measuredWindows >= 95)
            #expect(result.rejectedWindows == 0)
            #expect(error.p50 <= 5, "\(player.name)")
            #expect(error.p99 <= 12, "\(player.name)")
            #expect(abs(result.clockPPM - player.ppm) < 2, "\(player.name)")
        }
        let skew = try! #require(report.skew)
        #expect(abs(skew.p50 - 50) <= 5)
        #expect(skew.p99 <= 65)
    }

    @Test func aHeavilyLoadedHarnessCostsOnlyAFewMicroseconds() {
        var players = Self.threePlayers(blockFrames: 960, pieceBytes: 8_192)
        for index in players.indices {
            players[index].jitterMeanNanoseconds = 80_000
            players[index].spikeProbability = 0.08
            players[index].spikeMaximumNanoseconds = 12e6
        }
        let report = Self.analyze(players)
        for (player, result) in zip(players, report.players) {
            let truth = SimulatedPlayer.truth(player.delayNanoseconds, among: players.map(\.delayNanoseconds))
            let error = Self.errors(result, truth: truth)
            print("loaded \(player.name): |error| p50 \(error.p50) p99 \(error.p99)")
            #expect(error.p50 <= 5 && error.p99 <= 15, "\(player.name)")
        }
    }

    /// The median signed deviation (µs) of `result` between `from` and `to` seconds.
    static func medianDeviation(_ result: PlayerSyncResult, from: Double, to: Double) -> Double {
        let values = result.series.filter { $0.seconds >= from && $0.seconds <= to }.map(\.microseconds).sorted()
        return DeviationStatistics.percentile(0.5, ofSorted: values)
    }

    @Test func aDroppedSampleShowsAsAStepOfOneSample() {
        var players = Self.threePlayers(blockFrames: 2400, pieceBytes: 65_536)
        players[2].delayNanoseconds = 0
        players[2].dropAt = 48_000 * 5  // source second 5, played at about 5.3 s
        let report = Self.analyze(players)
        let before = Self.medianDeviation(report.players[2], from: 2, to: 5.2)
        let after = Self.medianDeviation(report.players[2], from: 5.5, to: 9.5)
        print("drop: before \(before) µs, after \(after) µs, step \(after - before) µs")
        #expect(abs(before) < 3)
        #expect(abs(after - before + 1e6 / 48_000) < 3)
        #expect(report.players[2].rejectedWindows == 0)
    }

    @Test func aSilentPlayerIsCountedButDoesNotBlindTheOthers() {
        var players = Self.threePlayers(blockFrames: 480, pieceBytes: 65_536)
        players[0].silent = true
        let report = Self.analyze(players)
        print(report.textTable())
        #expect(report.players[0].measuredWindows == 0)
        #expect(report.players[0].silentWindows >= 95)
        #expect(report.players[0].deviation == nil)
        #expect(report.players[0].firstAudioNanoseconds == nil)
        #expect(report.players[0].inSyncNanoseconds == nil)
        // Two players left: each is half their 50 µs apart from the group's median.
        #expect(abs((report.players[1].medianDeviationMicroseconds ?? 0) - 25) < 3)
        #expect(abs((report.players[2].medianDeviationMicroseconds ?? 0) + 25) < 3)
        #expect(report.players[1].measuredWindows >= 95)
    }

    @Test func aPlayerPlayingOtherMusicIsRejected() {
        var players = Self.threePlayers(blockFrames: 2400, pieceBytes: 65_536)
        let stranger = players[1].capture(source: MusicLikeSignal.render(seconds: 12, seed: 99), scheduleOrigin: Self.scheduleOrigin)
        var captures = players.map { $0.capture(source: Self.source, scheduleOrigin: Self.scheduleOrigin) }
        captures[1] = stranger
        players[1].delayNanoseconds = 0
        let report = SyncAnalysis.analyze(captures, startedAt: Self.startedAt, settleAfter: Self.startedAt + 2_000_000_000)
        #expect(report.players[1].measuredWindows == 0)
        #expect(report.players[1].rejectedWindows >= 90)
        #expect(report.players[0].measuredWindows >= 95)
    }

    @Test func aFarOutOfSyncPlayerIsFoundByTheCoarseSearch() {
        var players = Self.threePlayers(blockFrames: 2400, pieceBytes: 65_536)
        players[2].delayNanoseconds = 12_345_000
        let report = Self.analyze(players)
        let late = report.players[2]
        print("far: median \(late.medianDeviationMicroseconds ?? .nan) µs")
        #expect(abs((late.medianDeviationMicroseconds ?? 0) - 12_315) < 5)
        #expect(late.measuredWindows >= 95)
        #expect(late.inSyncNanoseconds == nil)
        #expect(abs((report.skew?.p50 ?? 0) - 12_345) < 5)
    }

    @Test func aJoiningPlayerReportsWhenItBecameAudibleAndInSync() {
        var players = Self.threePlayers(blockFrames: 480, pieceBytes: 65_536)
        players.append(SimulatedPlayer(name: "joiner", delayNanoseconds: 8_000, ppm: -40, blockFrames: 960,
                                       outputStart: Double(Self.startedAt) + 3.0e9, outputSeconds: 6, seed: 14))
        let captures = players.map { $0.capture(source: Self.source, scheduleOrigin: Self.scheduleOrigin) }
        let report = SyncAnalysis.analyze(captures, startedAt: Self.startedAt, settleAfter: Self.startedAt + 2_000_000_000)
        let joiner = report.players[3]
        let firstAudio = Double(joiner.firstAudioNanoseconds ?? 0) / 1e6
        let inSync = Double(joiner.inSyncNanoseconds ?? 0) / 1e6
        #expect(abs(firstAudio - 3_000) < 1)
        #expect(inSync >= 3_000 && inSync <= 3_150)
        // Four players: the group median is the mean of the middle two delays (0 and 8 µs).
        let truth = SimulatedPlayer.truth(8_000, among: players.map(\.delayNanoseconds))
        #expect(abs(Self.medianDeviation(joiner, from: 3.2, to: 8.9) - truth) < 3)
        #expect(abs(report.players[0].firstAudioNanoseconds! - 300_000_000) < 1_000_000)
    }

    @Test func aStalledPlayerIsMeasuredAgainSoonAfter() {
        var players = Self.threePlayers(blockFrames: 960, pieceBytes: 65_536)
        players[1].stall = (frame: 960 * 250, nanoseconds: 120_000_000)
        let report = Self.analyze(players)
        let stalled = report.players[1]
        let near = stalled.series.filter { $0.seconds > 5.0 && $0.seconds < 5.6 }
        print("stall: \(near)")
        #expect(abs(Self.medianDeviation(stalled, from: 5.6, to: 9.5) - 30) < 3)
        #expect(abs(Self.medianDeviation(stalled, from: 2, to: 4.9) - 30) < 3)
    }
}
