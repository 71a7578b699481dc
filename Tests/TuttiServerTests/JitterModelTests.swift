import Testing
import TuttiHarness
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
}
