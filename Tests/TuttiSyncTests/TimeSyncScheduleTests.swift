import Testing
import TuttiTiming
@testable import TuttiSync

/// Pacing and timeouts of Time requests, driven by hand-moved instants.
@Suite struct TimeSyncScheduleTests {
    static func quality(_ error: Nanos) -> ClockEstimator.Quality {
        .init(
            offsetStandardError: error, rateStandardError: 0, sampleCount: 0, span: 0, minimumRoundTrip: 0,
            minimumOneWayDelay: 0, accepted: 0, rejected: 0, oneWayAccepted: 0)
    }

    @Test func burstsUntilLockedThenSettlesThenGoesSteady() {
        var configuration = TimeSyncSchedule.Configuration()
        configuration.burstInterval = 10 * .nanosPerMillisecond
        configuration.settleInterval = 20 * .nanosPerMillisecond
        configuration.steadyInterval = 50 * .nanosPerMillisecond
        var schedule = TimeSyncSchedule(configuration: configuration)
        let ms = Nanos.nanosPerMillisecond
        #expect(schedule.poll(now: 0, quality: Self.quality(.max), isLocked: false) == .send(requestID: 1))
        #expect(schedule.poll(now: 1 * ms, quality: Self.quality(.max), isLocked: false) == .wait(until: 10 * ms))
        #expect(schedule.poll(now: 10 * ms, quality: Self.quality(.max), isLocked: false) == .send(requestID: 2))
        #expect(schedule.phase == .burst)
        #expect(schedule.poll(now: 11 * ms, quality: Self.quality(50_000), isLocked: true) == .wait(until: 30 * ms))
        #expect(schedule.phase == .settling)
        #expect(schedule.poll(now: 31 * ms, quality: Self.quality(5_000), isLocked: true) == .wait(until: 60 * ms))
        #expect(schedule.phase == .steady)
        #expect(schedule.poll(now: 60 * ms, quality: Self.quality(5_000), isLocked: true) == .send(requestID: 3))
    }

    @Test func aClockThatWentBackSendsAtOnceInsteadOfWaitingForTheLostTime() {
        var schedule = TimeSyncSchedule()
        let s = Nanos.nanosPerSecond
        guard case .send(let id) = schedule.poll(now: 100 * s, quality: Self.quality(.max), isLocked: false) else {
            Issue.record("expected a send")
            return
        }
        // The clock is set 5 s back: the next request goes now, and the one in flight is lost.
        guard case .send = schedule.poll(now: 95 * s, quality: Self.quality(.max), isLocked: false) else {
            Issue.record("waited for the lost time")
            return
        }
        #expect(schedule.lostCount == 1)
        #expect(schedule.replyReceived(requestID: id, now: 95 * s + 1) == nil)
    }

    @Test func switchingChannelsForgetsRequestsInFlightAndNeverReusesTheirIDs() {
        var schedule = TimeSyncSchedule()
        let ms = Nanos.nanosPerMillisecond
        guard case .send(let old) = schedule.poll(now: 0, quality: Self.quality(.max), isLocked: false) else {
            Issue.record("expected a send")
            return
        }
        schedule.switchChannel(to: .datagrams)
        // At once on the new channel, then every 2 ms while unlocked; the old request's reply matches nothing.
        guard case .send(let new) = schedule.poll(now: 1 * ms, quality: Self.quality(.max), isLocked: false) else {
            Issue.record("the new channel waited")
            return
        }
        #expect(new != old)
        #expect(schedule.replyReceived(requestID: old, now: 2 * ms) == nil)
        #expect(schedule.poll(now: 2 * ms, quality: Self.quality(.max), isLocked: false) == .wait(until: 3 * ms))
        #expect(schedule.replyReceived(requestID: new, now: 3 * ms) == 1 * ms)
    }

    @Test func repliesMatchTheirRequestOnce() {
        var schedule = TimeSyncSchedule()
        guard case .send(let id) = schedule.poll(now: 1_000, quality: Self.quality(.max), isLocked: false) else {
            Issue.record("expected a send")
            return
        }
        #expect(schedule.replyReceived(requestID: id, now: 9_000) == 1_000)
        #expect(schedule.replyReceived(requestID: id, now: 9_500) == nil)
        #expect(schedule.replyReceived(requestID: 999, now: 9_500) == nil)
    }

    @Test func unansweredRequestsAreLostAfterTheTimeout() {
        var schedule = TimeSyncSchedule()
        let ms = Nanos.nanosPerMillisecond
        _ = schedule.poll(now: 0, quality: Self.quality(.max), isLocked: false)
        _ = schedule.poll(now: 10 * ms, quality: Self.quality(.max), isLocked: false)
        _ = schedule.poll(now: 1_005 * ms, quality: Self.quality(.max), isLocked: false)
        #expect(schedule.lostCount == 1)
        #expect(schedule.replyReceived(requestID: 1, now: 1_006 * ms) == nil)
        #expect(schedule.replyReceived(requestID: 2, now: 1_006 * ms) == 10 * ms)
    }

    @Test func silenceFromTheServerFallsBackToBurstPacing() {
        var schedule = TimeSyncSchedule()
        let s = Nanos.nanosPerSecond
        guard case .send(let id) = schedule.poll(now: 0, quality: Self.quality(1_000), isLocked: true) else { return }
        _ = schedule.replyReceived(requestID: id, now: 1_000_000)
        _ = schedule.poll(now: 1 * s, quality: Self.quality(1_000), isLocked: true)
        #expect(schedule.phase == .steady)
        _ = schedule.poll(now: 7 * s, quality: Self.quality(1_000), isLocked: true)
        #expect(schedule.phase == .burst)
    }

    @Test func aDeadLinkDoesNotPileUpRequests() {
        var schedule = TimeSyncSchedule()
        var sent = 0
        var now: Nanos = 0
        while now < 900_000_000 {
            if case .send = schedule.poll(now: now, quality: Self.quality(.max), isLocked: false) { sent += 1 }
            now += 1_000_000
        }
        #expect(sent == schedule.configuration.maximumInFlight)
    }
}
