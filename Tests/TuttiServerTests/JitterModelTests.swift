import Testing
import TuttiHarness
import TuttiTiming

/// The proxy's delay model: a sharp floor unless asked for a noisy one.
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
}
