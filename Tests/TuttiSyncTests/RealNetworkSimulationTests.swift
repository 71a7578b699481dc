import Testing
import TuttiTiming
@testable import TuttiSync

/// The ways real networks are worse than a sharp floor (DESIGN.md, "Real networks"; issue 13),
/// first as the virtual network's own behaviour, then as what the real estimator and playout
/// make of each over 90 simulated seconds (`tutti bench sim --network all` prints the same over
/// several seeds). Where the sync goal (p99 ≤ 50 µs) is not met yet, the bound here is the
/// figure today with a margin — a guard against getting worse, not the goal — and says so.
/// (A sign of the noisy floor: the estimator reports σ ≈ 2 µs while its true offset error is
/// 20–35 µs at p50 and 100–230 µs at p99 — it believes the fastest delays too much.)
@Suite struct RealNetworkSimulationTests {
    static func delays(_ network: VirtualNetwork, count: Int = 20_000, at time: (Int) -> Nanos = { Nanos($0) * 10_000_000 }) -> [Nanos] {
        var random = SeededRandom(seed: 7)
        return (0..<count).compactMap { network.delay(using: &random, losable: false, at: time($0)) }
    }

    @Test func theNetworkModelsDoWhatTheySay() {
        var sharp = VirtualNetwork()
        sharp.spikeProbability = 0
        let sharpDelays = Self.delays(sharp).sorted()
        // A sharp floor: the fastest 1 % of messages all within ~50 µs of it.
        #expect(sharpDelays[0] >= sharp.floor && sharpDelays[sharpDelays.count / 100] - sharp.floor < 60_000)

        var noisy = sharp
        noisy.floorNoise = 500_000
        let noisyDelays = Self.delays(noisy).sorted()
        // A noisy floor: never below the floor, but the fastest 1 % spread over hundreds of µs.
        #expect(noisyDelays[0] >= noisy.floor && noisyDelays[noisyDelays.count / 100] - noisy.floor > 150_000)

        var saving = sharp
        saving.powerSaveProbability = 0.2
        saving.meanJitter = 0
        let held = Self.delays(saving, at: { Nanos($0) * 7_000_000 }).enumerated().filter { $0.element > saving.floor }
        // About a fifth held, each until a beacon.
        #expect(Double(held.count) / 20_000 > 0.17 && Double(held.count) / 20_000 < 0.23)
        #expect(held.allSatisfy { (Nanos($0.offset) * 7_000_000 + $0.element) % saving.beaconInterval == 0 })

        var roam = sharp
        roam.floorStepAt = 100 * .nanosPerSecond
        roam.floorStepBy = 3 * .nanosPerMillisecond
        let roamed = Self.delays(roam)
        #expect(roamed[..<10_000].min()! < roam.floor + 3 * .nanosPerMillisecond)
        #expect(roamed[10_000...].min()! >= roam.floor + 3 * .nanosPerMillisecond)
    }

    static func run(_ change: (inout SyncScenario) -> Void) -> SyncSimulationResult {
        var scenario = SyncScenario()
        scenario.duration = 90 * .nanosPerSecond
        scenario.joinTimes = [0, 0.2, 0.4, 30].map { Nanos($0 * 1e9) }
        scenario.settleTime = 30 * .nanosPerSecond
        scenario.seed = 1
        change(&scenario)
        var simulation = SyncSimulation(scenario: scenario)
        return simulation.run()
    }

    @Test func aRoamIsRiddenOutAndAnAsymmetricPathOnlyMovesEveryoneAlike() {
        // This seed: p99 9 µs. Not the goal everywhere: over 10 seeds with the step at the
        // join (`tutti bench sim --network all`), p99 44 µs at the median seed, 137 µs at worst.
        let roam = Self.run {
            $0.network.floorStepAt = 60 * .nanosPerSecond
            $0.network.floorStepBy = 3 * .nanosPerMillisecond
        }
        print("— roam: the floor 3 ms higher at 60 s —\n\(roam.summary)")
        #expect(roam.settledSkew.p99 < 50_000)
        #expect(roam.speakers.allSatisfy { $0.statistics.hardSyncs == 0 })

        // Up 1.5 ms + exp(5 ms), down 3 ms + exp(1 ms): every speaker's estimate is biased by the
        // same (3 − 1.5) / 2 ms — which no two-way method can see — so they stay together.
        let asymmetric = Self.run {
            var down = $0.network
            down.floor = 3 * .nanosPerMillisecond
            down.meanJitter = .nanosPerMillisecond
            $0.downlink = down
        }
        print("— asymmetric paths —\n\(asymmetric.summary)")
        #expect(asymmetric.settledSkew.p99 < 50_000)
        for speaker in asymmetric.speakers { #expect(abs(speaker.offsetError.p50 - 750_000) < 150_000, "offset error \(speaker.offsetError.description)") }
    }

    @Test func aNoisyFloorAndPowerSaveAreNotAtTheGoalYet() {
        // Issue 13: the estimator leans on the fastest delays, which a noisy floor makes noisy.
        // Today (seeds 1–2): p99 96–206 µs; power save 58–93 µs. Bounds: today's with a margin.
        let noisy = Self.run { $0.network.floorNoise = 500_000 }
        print("— noisy floor (+0–500 µs per message) —\n\(noisy.summary)")
        #expect(noisy.settledSkew.p99 < 300_000)
        let saving = Self.run { $0.network.powerSaveProbability = 0.2 }
        print("— power save (20 % held to the next beacon) —\n\(saving.summary)")
        #expect(saving.settledSkew.p99 < 150_000)
        for result in [noisy, saving] { #expect(result.speakers.allSatisfy { $0.statistics.hardSyncs == 0 && $0.statistics.underruns == 0 }) }
    }

    /// Issue 13's suggestion, modelled before it is built: Time messages as datagrams of their
    /// own (no waiting behind an earlier request, or a reply behind audio), every 5 ms. Over 6
    /// seeds (`tutti bench sim --network all --time-channel datagram --time-interval-ms 5`) the
    /// skew p99 at the median seed falls from 18 to 5 µs (sharp), 46 to 7 (power save), 48 to 9
    /// (roam), 96 to 58 (noisy floor: still above the goal), and a joiner is within 100 µs in
    /// 0.3 s instead of 0.4 s at the median seed (at worst 1.0 s instead of 2.5 s; with seed 1
    /// 0.56 s instead of 0.44 s, and 6 µs either way).
    @Test func timeMessagesAsDatagramsOfTheirOwnRideOutPowerSaveAndJoinSooner() {
        func datagrams(_ scenario: inout SyncScenario) {
            scenario.timeOverDatagrams = true
            scenario.schedule.burstInterval = 5 * .nanosPerMillisecond
            scenario.schedule.settleInterval = 5 * .nanosPerMillisecond
            scenario.schedule.steadyInterval = 5 * .nanosPerMillisecond
        }
        let savingTCP = Self.run { $0.network.powerSaveProbability = 0.2 }
        let saving = Self.run {
            $0.network.powerSaveProbability = 0.2
            datagrams(&$0)
        }
        print("— power save, Time as datagrams every 5 ms —\n\(saving.summary)")
        #expect(saving.settledSkew.p99 < 50_000 && saving.settledSkew.p99 < savingTCP.settledSkew.p99 / 2)
        let sharpTCP = Self.run { _ in }
        let sharp = Self.run(datagrams)
        let joinTCP = sharpTCP.speakers[3].inSyncTime ?? .max, join = sharp.speakers[3].inSyncTime ?? .max
        print("— sharp, Time as datagrams every 5 ms: skew p99 \(sharp.settledSkew.p99 / 1000) µs, the joiner within 100 µs after \(join / 1_000_000) ms (in the audio connection: \(sharpTCP.settledSkew.p99 / 1000) µs, \(joinTCP / 1_000_000) ms) —")
        // Seed 1 is already at 6 µs in the audio connection: no worse, and the joiner within a second.
        #expect(sharp.settledSkew.p99 < 10_000 && join < 1_000_000_000)
    }
}
