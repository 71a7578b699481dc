import Testing
import TuttiTiming
@testable import TuttiSync

/// The acceptance scenario of the speaker issue in virtual time: the real estimator, schedule
/// and playout scheduler against virtual clocks (±100 ppm plus wander), a Wi-Fi-like network
/// (1.5 ms floor, 5 ms mean exponential jitter each way, 1 % spikes of 100 ms, 1 % of Time
/// messages lost) and virtual sound cards. Every figure is measured against the simulation's
/// truth (the true instant each DAC emits a source instant), never from a speaker's estimate,
/// and printed.
@Suite struct SyncSimulationTests {
    /// One hour, four speakers, on positions alone (the samples' values are not computed).
    @Test func oneHourStaysWithin50Microseconds() {
        var simulation = SyncSimulation(scenario: SyncScenario())
        let result = simulation.run()
        print("— one simulated hour, 4 speakers, positions only —\n\(result.summary)")
        #expect(result.skew.p99 < 50_000)
        for speaker in result.speakers {
            #expect((speaker.lockTime ?? .max) < .nanosPerSecond)
            #expect(speaker.statistics.underruns == 0)
            #expect(speaker.statistics.lateChunks == 0)
            #expect(speaker.statistics.hardSyncs == 0)
            #expect(abs(speaker.estimatedPPM - speaker.clockPPM) < 1)
        }
    }

    /// Twenty seconds with real samples through the resampler: the tone each speaker plays
    /// matches the ideal tone at the positions it reports (so positions are what is heard).
    @Test func realSamplesMatchTheReportedPositions() {
        var scenario = SyncScenario()
        scenario.duration = 20 * .nanosPerSecond
        scenario.renderSamples = true
        scenario.seed = 5
        var simulation = SyncSimulation(scenario: scenario)
        let result = simulation.run()
        print("— 20 simulated seconds, 4 speakers, real samples —\n\(result.summary)")
        for speaker in result.speakers {
            #expect((speaker.snr ?? 0) > 80)
            #expect(speaker.statistics.underruns == 0)
        }
        // Twenty seconds is mostly convergence; the 50 µs figure is the hour's.
        #expect(result.settledSkew.p99 < 100_000)
    }

    /// A speaker joining a playing group (default 1000 ms buffer) plays in sync quickly: within
    /// 1 ms of the true schedule (no audible echo) in half a second, within 100 µs in a few
    /// seconds, as its estimate sharpens under 5 ms of jitter.
    @Test func aLateJoinerIsInSyncQuickly() {
        var scenario = SyncScenario()
        scenario.duration = 90 * .nanosPerSecond
        scenario.joinTimes = [0, 200, 400, 60_000].map { $0 * .nanosPerMillisecond }
        scenario.seed = 9
        var simulation = SyncSimulation(scenario: scenario)
        let result = simulation.run()
        print("— a speaker joins a playing group at 60 s —\n\(result.summary)")
        let joiner = result.speakers[3]
        #expect((joiner.lockTime ?? .max) < 500 * .nanosPerMillisecond)
        #expect((joiner.firstAudio ?? .max) < 500 * .nanosPerMillisecond)
        #expect((joiner.inSyncTime ?? .max) < 5 * .nanosPerSecond)
        #expect(joiner.statistics.hardSyncs == 0)

        let within1ms = simulation.result(inSyncThreshold: 1_000_000).speakers[3].inSyncTime
        print("joiner within 1 ms of the schedule after \(Double(within1ms ?? -1) / 1e6) ms")
        #expect((within1ms ?? .max) < 500 * .nanosPerMillisecond)
    }
}
