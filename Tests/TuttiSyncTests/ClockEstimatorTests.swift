import Testing
import TuttiTiming
@testable import TuttiSync

/// The estimator against synthetic exchanges whose truth is known.
@Suite struct ClockEstimatorTests {
    /// A server clock = true time; the local clock runs `ppm` fast from `offset`.
    struct Link {
        var offset: Nanos = 987_654_321_000
        var ppm = 70.0
        var random = SeededRandom(seed: 3)
        var meanJitter = 5e6

        func local(_ t: Nanos) -> Nanos { offset + t + Nanos((Double(t) * ppm * 1e-6).rounded()) }

        mutating func exchange(at t: Nanos, up extraUp: Nanos = 0, down extraDown: Nanos = 0) -> (TimeExchange, arrival: Nanos) {
            let up = 1_500_000 + Nanos(random.exponential(mean: meanJitter)) + extraUp
            let down = 1_500_000 + Nanos(random.exponential(mean: meanJitter)) + extraDown
            let t2 = t + up
            let t3 = t2 + 40_000
            let ta = t3 + down
            return (TimeExchange(clientSent: local(t), serverReceived: t2, serverSent: t3, clientReceived: local(ta)), ta)
        }
    }

    @Test func derivedQuantitiesFollowSnapcastsDefinitions() {
        let e = TimeExchange(clientSent: 1_000, serverReceived: 5_300, serverSent: 5_400, clientReceived: 2_000)
        #expect(e.clientToServer == 4_300)
        #expect(e.serverToClient == -3_400)
        #expect(e.roundTrip == 900)
        #expect(e.midpointOffset == 3_850)
        #expect(e.localMidpoint == 1_500)
        #expect(e.isWellFormed)
        let snap = TimeExchange(clientSent: 1_000, clientToServer: 4_300, serverSent: 5_400, clientReceived: 2_000)
        #expect(snap == e)
    }

    @Test func symmetricExchangesGiveOffsetAndRateExactly() {
        var estimator = ClockEstimator()
        let link = Link(ppm: -42)
        for i in 0..<100 {
            let t = Nanos(i) * 100_000_000
            let e = TimeExchange(
                clientSent: link.local(t), serverReceived: t + 2_000_000, serverSent: t + 2_000_000,
                clientReceived: link.local(t + 4_000_000))
            #expect(estimator.add(e) == .accepted)
        }
        let now = link.local(10 * .nanosPerSecond)
        let server = estimator.serverTime(atLocal: now)!
        #expect(abs(server - 10 * .nanosPerSecond) < 1_000)
        #expect(abs((1 / estimator.rate - 1) * 1e6 - -42) < 0.05)
        #expect(abs(estimator.localTime(atServer: server)! - now) <= 1)
        #expect(estimator.isLocked)
    }

    /// Audio chunks' `sent` stamps add server-to-client samples: with them the down floor is
    /// found sooner, so the estimate after a few seconds is closer; a stamp that cannot be a
    /// send time (the message would have arrived before it was sent) is refused and moves nothing.
    @Test func oneWaySamplesSharpenTheEstimateAndBogusOnesAreRefused() {
        func run(oneWay: Bool, seed: UInt64) -> (error: [Double], refused: Int) {
            var estimator = ClockEstimator()
            #expect(estimator.addOneWay(serverSent: 1_000, clientReceived: 2_000) == .rejected(.unanchored))
            var link = Link(ppm: 55, random: SeededRandom(seed: seed))
            var chunkDelays = SeededRandom(seed: seed + 100)
            var errors: [Double] = []
            var refused = 0
            var t: Nanos = 0
            while t < 8 * .nanosPerSecond {
                let (exchange, _) = link.exchange(at: t)
                _ = estimator.add(exchange)
                if oneWay {
                    // A chunk sent at t + 3 ms, delayed like everything else.
                    let sent = t + 3_000_000
                    let arrival = sent + 1_500_000 + Nanos(chunkDelays.exponential(mean: link.meanJitter))
                    _ = estimator.addOneWay(serverSent: sent, clientReceived: link.local(arrival))
                    // A server stamping something other than its send time: 20 ms in the future.
                    if case .rejected(.inconsistent) = estimator.addOneWay(
                        serverSent: sent + 20_000_000, clientReceived: link.local(sent + 1_000_000))
                    {
                        refused += 1
                    }
                }
                t += 20_000_000
                if t > 4 * .nanosPerSecond, let server = estimator.serverTime(atLocal: link.local(t)) {
                    errors.append(abs(Double(server - t)))
                }
            }
            return (errors, refused)
        }
        // Same exchanges with and without the chunks, over several seeds.
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        var plain = 0.0
        var withChunks = 0.0
        for seed: UInt64 in 1...8 {
            plain += median(run(oneWay: false, seed: seed).error) / 8
            let chunked = run(oneWay: true, seed: seed)
            withChunks += median(chunked.error) / 8
            #expect(chunked.refused >= 395)  // all but the first few (before a line exists)
        }
        print("offset error 4–8 s, mean of 8 medians: exchanges only \(plain / 1000) µs, with one-way samples \(withChunks / 1000) µs")
        #expect(withChunks < plain)
    }

    @Test func malformedAndInflatedExchangesAreRejected() {
        var estimator = ClockEstimator()
        #expect(
            estimator.add(TimeExchange(clientSent: 10, serverReceived: 0, serverSent: 0, clientReceived: 5))
                == .rejected(.malformed))
        var link = Link()
        for i in 0..<50 { _ = estimator.add(link.exchange(at: Nanos(i) * 10_000_000).0) }
        let (spiked, _) = link.exchange(at: 600_000_000, up: 100_000_000)
        guard case .rejected(.roundTripInflated) = estimator.add(spiked) else {
            Issue.record("a 100 ms spike was not rejected")
            return
        }
        #expect(estimator.quality.rejected >= 2)
    }

    /// With 5 ms mean jitter each way, a 10 ms burst locks within a second, and the error then
    /// falls towards the reported standard error.
    @Test func locksWithinASecondAndConvergesUnderJitter() {
        var estimator = ClockEstimator()
        var link = Link()
        var lockedAt: Nanos?
        var errors: [Double] = []
        var t: Nanos = 0
        while t < 120 * .nanosPerSecond {
            let (e, arrival) = link.exchange(at: t)
            _ = estimator.add(e)
            if lockedAt == nil, estimator.isLocked { lockedAt = arrival }
            if t > 60 * .nanosPerSecond { errors.append(abs(Double(estimator.serverTime(atLocal: e.clientReceived)! - arrival))) }
            t += t < 10 * .nanosPerSecond ? 10_000_000 : 100_000_000
        }
        let spread = Spread(errors)
        print("estimator alone: lock after \(Double(lockedAt ?? -1) / 1e6) ms; |error| 60–120 s \(spread); reported σ \(estimator.quality.offsetStandardError) ns; rate error \((1 / estimator.rate - 1) * 1e6 - 70) ppm")
        #expect((lockedAt ?? .max) < .nanosPerSecond)
        #expect(spread.p99 < 40_000)
        #expect(abs((1 / estimator.rate - 1) * 1e6 - 70) < 0.5)
    }

    @Test func outOfOrderRepliesAreAccepted() {
        var estimator = ClockEstimator()
        var link = Link()
        var batch = (0..<40).map { link.exchange(at: Nanos($0) * 10_000_000).0 }
        batch.reverse()
        for e in batch { _ = estimator.add(e) }
        #expect(estimator.quality.accepted + estimator.quality.rejected == 40)
        #expect(estimator.quality.sampleCount >= 30)
        #expect(abs(estimator.serverTime(atLocal: link.local(400_000_000))! - 400_000_000) < 2_000_000)
    }

    /// Replies that overtake each other (a datagram time channel: most arrive out of order) keep
    /// the same envelope as the same exchanges in order: the shortcuts for a point out of order
    /// (only the sums for one inside the hull, an outlier list for one that is not) must give
    /// the fit a rebuild would.
    @Test func exchangesInArrivalOrderGiveTheSameEnvelopeAsInSendingOrder() {
        var link = Link()
        let exchanges = (0..<3000).map { link.exchange(at: Nanos($0) * 5_000_000) }
        var inOrder = EnvelopeWindow()
        for (exchange, _) in exchanges { inOrder.insert(exchange) }
        var arrivalOrder = EnvelopeWindow()
        let overtaking = exchanges.sorted { $0.arrival < $1.arrival }
        #expect(zip(overtaking, exchanges).filter { $0.0.0 != $0.1.0 }.count > 1000, "most replies overtake or are overtaken")
        for (exchange, _) in overtaking { arrivalOrder.insert(exchange) }
        for window in [inOrder, arrivalOrder] { #expect(window.count == 3000) }
        for slope in [-80e-6, 0, 70e-6, 90e-6] {
            let a = inOrder.evaluate(slope: slope, maximumSlope: 1e-3)!, b = arrivalOrder.evaluate(slope: slope, maximumSlope: 1e-3)!
            #expect(abs(a.offset(at: 10_000_000_000) - b.offset(at: 10_000_000_000)) < 1e-3)
            #expect(abs(a.halfGap - b.halfGap) < 1e-3 && abs(a.standardError - b.standardError) < 1e-3)
        }
    }

    @Test func aClockStepRestartsTheEstimator() {
        var estimator = ClockEstimator()
        var link = Link()
        for i in 0..<300 { _ = estimator.add(link.exchange(at: Nanos(i) * 10_000_000).0) }
        #expect(estimator.isLocked)
        link.offset -= 5 * .nanosPerSecond  // the local clock stepped back 5 s (or a new server)
        var dispositions: [ClockEstimator.Disposition] = []
        for i in 300..<310 { dispositions.append(estimator.add(link.exchange(at: Nanos(i) * 10_000_000).0)) }
        #expect(dispositions.prefix(2).allSatisfy { if case .rejected(.inconsistent) = $0 { true } else { false } })
        #expect(dispositions[2] == .restarted)
        let t: Nanos = 3_100_000_000
        #expect(abs(estimator.serverTime(atLocal: link.local(t))! - t) < 5_000_000)
    }

    /// Feeds exchanges every 5 ms for 60 s; the floor rises by `upRise`/`downRise` at 12 s (a
    /// roam). Returns |error| p99 over 40–60 s and the rate error at the end (ppm).
    static func roam(_ configuration: ClockEstimator.Configuration, upRise: Nanos, downRise: Nanos) -> (p99: Double, rateError: Double, rises: Int) {
        var estimator = ClockEstimator(configuration: configuration)
        var link = Link()
        var errors: [Double] = []
        var t: Nanos = 0
        while t < 60 * .nanosPerSecond {
            let risen = t >= 12 * .nanosPerSecond
            let (e, arrival) = link.exchange(at: t, up: risen ? upRise : 0, down: risen ? downRise : 0)
            _ = estimator.add(e)
            if t > 40 * .nanosPerSecond { errors.append(abs(Double(estimator.serverTime(atLocal: e.clientReceived)! - arrival))) }
            t += 5_000_000
        }
        return (Spread(errors).p99, (1 / estimator.rate - 1) * 1e6 - link.ppm, estimator.floorRises)
    }

    /// A roam 12 s after connecting raises the floor 3 ms both ways: every later point lies
    /// outside the fit, which would go on with the rate it had then. The estimator moves the
    /// older points to the new floor and keeps learning the rate.
    @Test func aFloorThatRisesBothWaysIsTakenInAndTheRateKeepsConverging() {
        let rebased = Self.roam(.init(), upRise: 3_000_000, downRise: 3_000_000)
        var never = ClockEstimator.Configuration()
        never.floorRiseThreshold = .max
        let frozen = Self.roam(never, upRise: 3_000_000, downRise: 3_000_000)
        print("floor +3 ms both ways at 12 s: |error| p99 40–60 s \(rebased.p99) ns, rate error \(rebased.rateError) ppm; without taking it in \(frozen.p99) ns, \(frozen.rateError) ppm")
        #expect(rebased.rises == 1 && frozen.rises == 0)
        #expect(abs(rebased.rateError) < abs(frozen.rateError) / 2, "the rate stopped converging")
        #expect(rebased.p99 < 20_000)
        // No rise at all, no rebase.
        #expect(Self.roam(.init(), upRise: 0, downRise: 0).rises == 0)
    }

    /// A rise one way only cannot be told from the clock's offset moving; the fit keeps the
    /// offset it had (the older points) rather than take half the rise for a clock change.
    @Test func aFloorThatRisesOneWayLeavesTheOffsetWhereItWas() {
        let oneWay = Self.roam(.init(), upRise: 3_000_000, downRise: 0)
        #expect(oneWay.rises == 0)
        #expect(oneWay.p99 < 100_000, "|error| p99 \(oneWay.p99) ns: the offset moved by part of the rise")
    }

    /// A rate that drifts by 1 ppm over 10 minutes (a warming crystal) is followed.
    @Test func followsASlowRateChange() {
        var estimator = ClockEstimator()
        var random = SeededRandom(seed: 11)
        var errors: [Double] = []
        var t: Nanos = 0
        // local(t) = t + 20 ppm·t + 1 ppm/600 s · t²/2
        func local(_ t: Nanos) -> Nanos {
            let s = Double(t) / 1e9
            return 5_000_000_000 + t + Nanos((20e-6 * s + 0.5 * (1e-6 / 600) * s * s) * 1e9)
        }
        while t < 1200 * .nanosPerSecond {
            let up = 1_500_000 + Nanos(random.exponential(mean: 5e6))
            let down = 1_500_000 + Nanos(random.exponential(mean: 5e6))
            let e = TimeExchange(clientSent: local(t), serverReceived: t + up, serverSent: t + up, clientReceived: local(t + up + down))
            _ = estimator.add(e)
            if t > 300 * .nanosPerSecond { errors.append(abs(Double(estimator.serverTime(atLocal: e.clientReceived)! - (t + up + down)))) }
            t += 100_000_000
        }
        let spread = Spread(errors)
        print("rate drifting 1 ppm / 10 min: |error| \(spread), final rate \((1 / estimator.rate - 1) * 1e6) ppm (true 22)")
        #expect(spread.p99 < 50_000)
        #expect(abs((1 / estimator.rate - 1) * 1e6 - 22) < 0.3)
    }
}
