import Testing
import TuttiTestSupport

/// The counter signal's analysis: strict by default; a single frame skipped or repeated counted
/// as a correction only when asked, anything larger a break either way.
@Suite struct CounterSignalTests {
    @Test func singleFrameCorrectionsAreCountedOnlyWhenTolerated() {
        let silence = [UInt8](repeating: 0, count: 40)
        let repeated = silence + CounterSignal.bytes(frames: 0..<100) + CounterSignal.bytes(frames: 99..<200)
        let skipped = silence + CounterSignal.bytes(frames: 0..<100) + CounterSignal.bytes(frames: 101..<200)
        let jumped = silence + CounterSignal.bytes(frames: 0..<100) + CounterSignal.bytes(frames: 103..<200)
        #expect(CounterSignal.analyze(repeated).firstBreak == 110)
        #expect(CounterSignal.analyze(skipped).firstBreak == 110)
        let tolerated = CounterSignal.analyze(repeated, toleratingSingleFrames: true)
        #expect(tolerated.firstBreak == nil && tolerated.corrections == 1 && tolerated.leadingSilence == 10)
        #expect(CounterSignal.analyze(skipped, toleratingSingleFrames: true).corrections == 1)
        #expect(CounterSignal.analyze(jumped, toleratingSingleFrames: true).firstBreak == 110)
        #expect(CounterSignal.frames(jumped, around: 110).count == 7)
    }
}
