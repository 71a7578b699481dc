import Testing
@testable import TuttiOutputs
import TuttiTiming

@Suite struct VirtualDevicePacerTests {
    let ms = Nanos.nanosPerMillisecond

    func makePacer(rate: Int = 48_000, period: Int = 480) -> VirtualDevicePacer {
        VirtualDevicePacer(sampleRate: rate, periodFrames: period, lead: 5 * ms, maximumLateness: 100 * ms)
    }

    @Test func firstPeriodAnchorsOneLeadAhead() {
        var pacer = makePacer()
        #expect(pacer.nextWriteTime == nil)
        let timing = pacer.beginPeriod(at: 1_000 * ms)
        #expect(timing == PeriodTiming(localNow: 1_000 * ms, delay: 5 * ms, frames: 480))
        #expect(pacer.state == .running(start: 1_005 * ms, framesWritten: 0))
        pacer.framesWritten(480)
        #expect(pacer.nextDueTime == 1_015 * ms)
        #expect(pacer.nextWriteTime == 1_010 * ms)
    }

    @Test(arguments: [(48_000, 480), (44_100, 441), (44_100, 512), (96_000, 1000)])
    func onScheduleBlocksReportTheLeadAndDueTimesDoNotAccumulateRounding(rate: Int, period: Int) {
        var pacer = makePacer(rate: rate, period: period)
        var timing = pacer.beginPeriod(at: 0)
        let start: Nanos = 5 * ms
        var frames: Int64 = 0
        for _ in 0..<(rate * 60 / period) {  // a minute of blocks
            pacer.framesWritten(period)
            frames += Int64(period)
            let writeTime = pacer.nextWriteTime!
            timing = pacer.beginPeriod(at: writeTime)
            #expect(timing.delay == 5 * ms)
            // Exact: frame k is due at start + k/rate, rounded down once, never summed.
            #expect(pacer.nextDueTime == start + frames * .nanosPerSecond / Nanos(rate))
        }
        #expect(pacer.reanchorCount == 0)
    }

    @Test func aLittleLateShrinksTheDelayAndCatchesUpWithoutReanchoring() {
        var pacer = makePacer()
        _ = pacer.beginPeriod(at: 0)
        pacer.framesWritten(480)
        // Due at 15 ms, to be written at 10 ms; the writer wakes at 40 ms: 25 ms overdue.
        let late = pacer.beginPeriod(at: 40 * ms)
        #expect(late.delay == -25 * ms)
        #expect(pacer.reanchorCount == 0)
        pacer.framesWritten(480)
        // The next block's write time (20 ms) has passed: the writer goes on without sleeping.
        #expect(pacer.nextWriteTime == 20 * ms)
        #expect(pacer.beginPeriod(at: 41 * ms).delay == -16 * ms)
    }

    @Test func fallingFarBehindReanchorsInsteadOfBursting() {
        var pacer = makePacer()
        _ = pacer.beginPeriod(at: 0)
        pacer.framesWritten(480)
        // Write time 10 ms; waking at 2 s is far more than 100 ms late.
        let timing = pacer.beginPeriod(at: 2_000 * ms)
        #expect(timing.delay == 5 * ms)
        #expect(pacer.reanchorCount == 1)
        #expect(pacer.state == .running(start: 2_005 * ms, framesWritten: 0))
    }

    @Test func aClockSetBackReanchorsInsteadOfWaitingForTheLostTime() {
        var pacer = makePacer()
        _ = pacer.beginPeriod(at: 10_000 * ms)
        pacer.framesWritten(480)
        // Next write at 10 010 ms; an early wake-up (a period plus the lateness limit ahead) waits...
        #expect(!pacer.clockWentBack(at: 10_010 * ms - 110 * ms))
        // ...but a clock that went back 5 s does not.
        #expect(pacer.clockWentBack(at: 5_010 * ms))
        let timing = pacer.beginPeriod(at: 5_010 * ms)
        #expect(timing == PeriodTiming(localNow: 5_010 * ms, delay: 5 * ms, frames: 480))
        #expect(pacer.reanchorCount == 1)
        #expect(pacer.nextWriteTime == 5_010 * ms)
    }

    @Test func withARenderAheadEveryBlockIsBegunThatMuchBeforeItsWriteTimeReanchoredOnesToo() {
        var pacer = VirtualDevicePacer(sampleRate: 48_000, periodFrames: 480, lead: 5 * ms, maximumLateness: 100 * ms, renderAhead: 2 * ms)
        let first = pacer.beginPeriod(at: 1_000 * ms)
        #expect(first == PeriodTiming(localNow: 1_000 * ms, delay: 7 * ms, frames: 480))
        #expect(pacer.nextWriteTime == 1_002 * ms)
        pacer.framesWritten(480)
        #expect(pacer.nextWriteTime == 1_012 * ms)
        // The clock steps 5 s ahead while the writer waits for 1 010 ms (the write time less the
        // render-ahead): the re-anchored block is written 2 ms after it is begun, as every block is,
        // so on the real timeline the writes go on without a jump.
        let stepped = pacer.beginPeriod(at: 6_010 * ms)
        #expect(pacer.reanchorCount == 1)
        #expect(stepped == PeriodTiming(localNow: 6_010 * ms, delay: 7 * ms, frames: 480))
        #expect(pacer.nextWriteTime == 6_012 * ms)
    }

    @Test func exactlyAtTheLatenessLimitStillCatchesUp() {
        var pacer = makePacer()
        _ = pacer.beginPeriod(at: 0)
        pacer.framesWritten(480)
        _ = pacer.beginPeriod(at: 110 * ms)  // write time 10 ms + 100 ms
        #expect(pacer.reanchorCount == 0)
        _ = pacer.beginPeriod(at: 110 * ms + 1)
        #expect(pacer.reanchorCount == 1)
    }

    @Test func beginningTwiceReportsTheSameBlockAndIdleIgnoresWrites() {
        var pacer = makePacer()
        pacer.framesWritten(480)
        #expect(pacer.state == .idle)
        _ = pacer.beginPeriod(at: 0)
        let again = pacer.beginPeriod(at: 2 * ms)
        #expect(again.delay == 3 * ms)
        #expect(pacer.nextDueTime == 5 * ms)
    }

    @Test func wholeOutputsRunOnTheirClockWithoutSleepingInRealTime() throws {
        let clock = ManualClock()
        let output = try NullOutput(format: stereo48k, clock: clock, sleep: clock.sleeper)
        let start = clock.now()
        let (timings, _) = try drive(output, periods: 500)  // 5 s of audio
        #expect(timings.allSatisfy { $0.delay == 5 * ms })
        #expect(timings.last!.localNow == start + 4_990 * ms)
        #expect(output.framesDiscarded == 240_000)
    }

    @Test func aStoppedWriterReanchorsOnceAndCountsIt() throws {
        let clock = ManualClock()
        let output = try NullOutput(format: stereo48k, clock: clock, sleep: clock.sleeper)
        _ = try drive(output, periods: 3)
        clock.advance(by: 3 * .nanosPerSecond)  // SIGSTOP for 3 s
        let (timings, _) = try drive(output, periods: 3)
        #expect(output.underrunCount == 1)
        #expect(timings.map(\.delay) == [5 * ms, 5 * ms, 5 * ms])
    }

    @Test(arguments: [1000.0, -1000.0, 100.0])
    func aSkewedClockMakesTheVirtualDACRunOffRate(ppm: Double) throws {
        // The system clock is `base`; the speaker's simulated clock runs `ppm` off it. Sleeping
        // moves `base`, as real sleeps do; the device counts frames on the skewed clock.
        let base = ManualClock()
        let skewed = SkewedClock(base: base, offset: 0, ppm: ppm)
        let output = try NullOutput(format: stereo48k, clock: skewed, sleep: base.sleeper)
        let baseStart = base.now()
        _ = try drive(output, periods: 1001)  // the last period begins when frame 480 000 (10 s) is due - lead
        let elapsedOnBase = Double(base.now() - baseStart)
        // 10 s on the skewed clock minus nothing (the lead cancels: the first block also began
        // one lead early) lasts 10 s / (1 + ppm·1e-6) on the system clock.
        let expected = 10e9 / (1 + ppm * 1e-6)
        // A sleep measured on the system clock overshoots on a fast clock by at most ppm of one
        // period (10 µs at +1000 ppm); nothing accumulates, as due times are fixed.
        #expect(abs(elapsedOnBase - expected) < 20_000, "elapsed \(elapsedOnBase) ns, expected \(expected) ns")
        // +1000 ppm: 0.1 % fast, so 10 s of audio is done 10 ms early on the system clock.
        if ppm == 1000 { #expect(abs(elapsedOnBase - 9_990_010_000) < 20_000) }
    }
}
