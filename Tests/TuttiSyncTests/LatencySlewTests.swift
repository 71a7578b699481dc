import Testing
import TuttiTiming
@testable import TuttiSync

@Suite struct LatencySlewTests {
    let slew = LatencySlew()
    let period: Nanos = 10 * .nanosPerMillisecond

    @Test func aSmallChangeWhilePlayingIsSlewedAt500PPM() {
        var latency: Nanos = 180 * .nanosPerMillisecond
        let target: Nanos = 195 * .nanosPerMillisecond
        var periods = 0
        while latency != target {
            let next = slew.next(from: latency, toward: target, period: period, playing: true)
            #expect(next - latency <= 5_000 && next > latency)  // ≤ 5 µs per 10 ms period
            latency = next
            periods += 1
        }
        // 15 ms at 500 ppm: 30 s of playing.
        #expect(periods == 3000)
    }

    @Test func aLargeChangeOrOneWhileSilentTakesEffectAtOnce() {
        let current: Nanos = 180 * .nanosPerMillisecond
        #expect(slew.next(from: current, toward: 250 * .nanosPerMillisecond, period: period, playing: true) == 250 * .nanosPerMillisecond)
        #expect(slew.next(from: current, toward: 185 * .nanosPerMillisecond, period: period, playing: false) == 185 * .nanosPerMillisecond)
        // Within one period's step: there at once; downward too.
        #expect(slew.next(from: current, toward: current - 1_000, period: period, playing: true) == current - 1_000)
        #expect(slew.next(from: current, toward: current - 20 * .nanosPerMillisecond, period: period, playing: true) == current - 5_000)
    }
}
