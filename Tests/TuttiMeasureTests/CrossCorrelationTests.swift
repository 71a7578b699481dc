import Testing
@testable import TuttiMeasure

/// Sub-sample alignment of one window, on the music-like signal.
@Suite struct CrossCorrelationTests {
    static let source = MusicLikeSignal.render(seconds: 3, seed: 21)

    /// `source` delayed by `shift` samples (fractional) and scaled by `gain`.
    static func shifted(by shift: Double, gain: Double) -> [Float] {
        (0..<source.count).map { Float(gain * MusicLikeSignal.sample(source, at: Double($0) - shift)) }
    }

    @Test(arguments: [0.0, 0.25, 0.5, 0.75, 1.44, -0.96, 37.3])
    func findsAFractionalShiftAtAnyLevel(shift: Double) throws {
        let other = Self.shifted(by: shift, gain: 0.2)
        var worst = 0.0
        for referenceStart in stride(from: 10_000, to: 130_000, by: 4_800) {
            let peak = try #require(CrossCorrelation.bestMatch(
                reference: Self.source, referenceStart: referenceStart, length: 2048, other: other,
                candidates: (referenceStart - 96)...(referenceStart + 96)))
            guard Self.source[referenceStart..<(referenceStart + 2048)].contains(where: { abs($0) > 0.01 }) else { continue }
            #expect(peak.correlation > 0.99)
            #expect(!peak.atEdge)
            worst = max(worst, abs(peak.start - Double(referenceStart) - shift))
        }
        print("shift \(shift): worst error \(worst) samples = \(worst / 48_000 * 1e6) µs")
        #expect(worst < 0.05)
    }

    @Test func silenceHasNoMatch() {
        let silence = [Float](repeating: 0, count: 10_000)
        #expect(CrossCorrelation.bestMatch(reference: silence, referenceStart: 100, length: 2048, other: Self.source,
                                           candidates: 0...200) == nil)
        #expect(CrossCorrelation.bestMatch(reference: Self.source, referenceStart: 100, length: 2048, other: silence,
                                           candidates: 0...200) == nil)
    }

    @Test func aPeakBeyondTheRangeIsFlaggedAsOnTheEdge() throws {
        let other = Self.shifted(by: 40, gain: 1)
        let peak = try #require(CrossCorrelation.bestMatch(
            reference: Self.source, referenceStart: 50_000, length: 2048, other: other, candidates: 49_980...50_020))
        #expect(peak.atEdge)
    }

    @Test func candidatesAreClippedToTheOtherSignal() throws {
        let peak = try #require(CrossCorrelation.bestMatch(
            reference: Self.source, referenceStart: 0, length: 2048, other: Self.source, candidates: -500...50))
        #expect(peak.start == 0)
        #expect(peak.atEdge)
        #expect(CrossCorrelation.bestMatch(reference: Self.source, referenceStart: 0, length: 2048, other: Self.source,
                                           candidates: 200_000...200_100) == nil)
    }
}
