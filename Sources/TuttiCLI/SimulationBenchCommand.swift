import ArgumentParser
import Foundation
import TuttiSync
import TuttiTiming

/// `tutti bench sim`: the sync simulation (the real estimator, schedule and playout scheduler
/// against virtual clocks and a virtual TCP-ordered network) over several seeds, with a speaker
/// joining the playing group. Deterministic and fast in a release build: the place to try a
/// sync change before running real processes with `tutti bench sync`.
struct SimulationBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim", abstract: "Sync simulation over seeds: skew, lock and join times against the truth.")

    @Option(name: .long, help: "Seeds to run (1...N).")
    var seeds: Int = 10

    @Option(name: .long, help: "Simulated seconds per run.")
    var seconds: Double = 90

    @Option(name: .customLong("settle-s"), help: "Seconds of each speaker's audio left out of the skew statistics.")
    var settleSeconds: Double = 30

    @Option(name: .customLong("join-at-s"), help: "When the fourth speaker joins the three playing ones.")
    var joinAtSeconds: Double = 30

    @Option(name: .customLong("jitter-ms"), help: "Mean of the exponential network jitter each way.")
    var jitterMs: Double = 5

    @Option(name: .customLong("drift-ppm"), help: "Largest clock rate error (drawn uniformly within ±this).")
    var driftPPM: Double = 100

    @Option(name: .customLong("time-interval-ms"), help: "Time request interval (every phase; default: 10 ms in tcp, 5 ms as datagrams, as the speaker does).")
    var timeIntervalMs: Double?

    @Option(name: .customLong("burst-interval-ms"), help: "Time request interval until the estimate is fine (burst and settling), when it differs.")
    var burstIntervalMs: Double?

    @Option(name: .customLong("time-channel"), help: "How Time messages travel: tcp (in the audio connection's order) or datagram (a UDP channel of their own).")
    var timeChannel = "tcp"

    @Option(name: .customLong("window-s"), help: "Clock estimator window.")
    var windowSeconds: Double?

    @Option(name: .long, help: "The network: sharp (a fixed floor), noisy-floor (+0–500 µs per message), asymmetric (the way down: 3 ms floor, exp(1 ms)), power-save (20 % held to the next 102.4 ms beacon), roam (the floor +3 ms at the join), or all (a table of every case).")
    var network = "sharp"

    @Option(name: .customLong("soak-hours"), help: "Instead: one long run of this many simulated hours (±3 ppm swings over 4 h, 5 % loss, a server restart halfway).")
    var soakHours: Double?

    func validate() throws {
        guard (1...1000).contains(seeds) else { throw ValidationError("--seeds must be 1...1000") }
        guard seconds > joinAtSeconds + 1, seconds > settleSeconds else {
            throw ValidationError("--seconds must exceed --join-at-s and --settle-s")
        }
        guard jitterMs >= 0, driftPPM >= 0 else { throw ValidationError("--jitter-ms and --drift-ppm must be ≥ 0") }
        if let timeIntervalMs, timeIntervalMs < 1 { throw ValidationError("--time-interval-ms must be ≥ 1") }
        if let burstIntervalMs, burstIntervalMs < 1 { throw ValidationError("--burst-interval-ms must be ≥ 1") }
        if let windowSeconds, windowSeconds < 1 { throw ValidationError("--window-s must be ≥ 1") }
        guard ["tcp", "datagram"].contains(timeChannel) else { throw ValidationError("--time-channel is tcp or datagram, not '\(timeChannel)'") }
        guard network == "all" || Self.networkCases.contains(network) else {
            throw ValidationError("--network is one of \(Self.networkCases.joined(separator: ", ")) or all, not '\(network)'")
        }
    }

    static let networkCases = ["sharp", "noisy-floor", "asymmetric", "power-save", "roam"]

    /// The scenario's network changed to `name` (one of ``networkCases``).
    func apply(network name: String, to scenario: inout SyncScenario) {
        switch name {
        case "noisy-floor":
            scenario.network.floorNoise = 500_000
        case "asymmetric":
            var down = scenario.network
            down.floor = 3 * .nanosPerMillisecond
            down.meanJitter = .nanosPerMillisecond
            scenario.downlink = down
        case "power-save":
            scenario.network.powerSaveProbability = 0.2
        case "roam":
            scenario.network.floorStepAt = Nanos(joinAtSeconds * 1e9)
            scenario.network.floorStepBy = 3 * .nanosPerMillisecond
        default:
            break
        }
    }

    func scenario(seed: Int, network name: String = "sharp") -> SyncScenario {
        var scenario = SyncScenario()
        scenario.seed = UInt64(seed)
        scenario.duration = Nanos(seconds * 1e9)
        scenario.joinTimes = [0, 0.2, 0.4, joinAtSeconds].map { Nanos($0 * 1e9) }
        scenario.settleTime = Nanos(settleSeconds * 1e9)
        scenario.network.meanJitter = Nanos(jitterMs * 1e6)
        scenario.maximumClockPPM = driftPPM
        scenario.timeOverDatagrams = timeChannel == "datagram"
        if scenario.timeOverDatagrams { scenario.schedule = .datagrams }
        if let timeIntervalMs {
            let interval = Nanos(timeIntervalMs * 1e6)
            scenario.schedule.burstInterval = interval
            scenario.schedule.settleInterval = interval
            scenario.schedule.steadyInterval = interval
        }
        if let burstIntervalMs {
            scenario.schedule.burstInterval = Nanos(burstIntervalMs * 1e6)
            scenario.schedule.settleInterval = Nanos(burstIntervalMs * 1e6)
        }
        if let windowSeconds { scenario.estimator.window = Nanos(windowSeconds * 1e9) }
        apply(network: name, to: &scenario)
        return scenario
    }

    func run() throws {
        if let soakHours { return soak(hours: soakHours) }
        say("tutti bench sim: \(seeds) seeds, \(Int(seconds)) s each, 3 speakers from the start and one joining at \(joinAtSeconds) s; clocks within ±\(Int(driftPPM)) ppm, network 1.5 ms + exp(\(jitterMs) ms) each way in TCP order, 1 % spikes of 100 ms; network case: \(network)")
        if network == "all" { return compareNetworks() }
        var skews: [Double] = []
        var locks: [Double] = []
        var audio: [Double] = []
        var audible: [Double] = []
        var tight: [Double] = []
        var hardSyncs = 0
        var underruns = 0
        func ms(_ value: Nanos?) -> Double { value.map { Double($0) / 1e6 } ?? .infinity }
        for seed in 1...seeds {
            var simulation = SyncSimulation(scenario: scenario(seed: seed, network: network))
            let result = simulation.run()  // in sync = within 100 µs, the scenario's default
            let joiner = result.speakers[3]
            skews.append(result.settledSkew.p99 / 1000)
            locks.append(ms(joiner.lockTime))
            audio.append(ms(joiner.firstAudio))
            audible.append(ms(simulation.result(inSyncThreshold: 1_000_000).speakers[3].inSyncTime))
            tight.append(ms(joiner.inSyncTime))
            hardSyncs += result.speakers.map(\.statistics.hardSyncs).reduce(0, +)
            underruns += result.speakers.map(\.statistics.underruns).reduce(0, +)
        }
        func row(_ name: String, _ values: [Double], _ unit: String) -> String {
            let sorted = values.sorted()
            func rank(_ p: Double) -> String {
                let value = Spread.rank(p, ofSorted: sorted)
                return value.isFinite ? String(format: "%.1f", value) : "never"
            }
            return "| \(name) (\(unit)) | \(rank(0.5)) | \(rank(0.9)) | \(rank(1.0)) |"
        }
        say("""

            | over \(seeds) seeds | p50 | p90 | max |
            |---|---:|---:|---:|
            \(row("skew p99 after \(Int(settleSeconds)) s of each speaker's audio", skews, "µs"))
            \(row("joiner: lock", locks, "ms"))
            \(row("joiner: first audio at the DAC", audio, "ms"))
            \(row("joiner: within 1 ms of the true schedule", audible, "ms"))
            \(row("joiner: within 100 µs of the true schedule", tight, "ms"))

            hard syncs \(hardSyncs), underruns \(underruns) (all speakers, all seeds)
            """)
    }

    /// `--network all`: every network case over the same seeds, a row each.
    func compareNetworks() {
        say("")
        say("| network (\(seeds) seeds) | skew p99 µs: p50 of seeds | p90 | max | joiner within 100 µs, s: p50 | max | hard syncs |")
        say("|---|---:|---:|---:|---:|---:|---:|")
        for name in Self.networkCases {
            var skews: [Double] = []
            var joins: [Double] = []
            var hardSyncs = 0
            for seed in 1...seeds {
                var simulation = SyncSimulation(scenario: scenario(seed: seed, network: name))
                let result = simulation.run()
                skews.append(result.settledSkew.p99 / 1000)
                joins.append(result.speakers[3].inSyncTime.map { Double($0) / 1e9 } ?? .infinity)
                hardSyncs += result.speakers.map(\.statistics.hardSyncs).reduce(0, +)
            }
            let skew = skews.sorted(), join = joins.sorted()
            func text(_ value: Double) -> String { value.isFinite ? String(format: "%.1f", value) : "never" }
            say("| \(name) | \(text(Spread.rank(0.5, ofSorted: skew))) | \(text(Spread.rank(0.9, ofSorted: skew))) | \(text(skew.last ?? .nan)) | \(text(Spread.rank(0.5, ofSorted: join))) | \(text(join.last ?? .nan)) | \(hardSyncs) |")
        }
    }

    /// The long-run soak (docs/reliability.md): one run, its summary, the skew by hour, and the
    /// restart halfway.
    func soak(hours: Double) {
        let started = Date()
        let duration = Nanos(hours * 3600 * 1e9)
        say("tutti bench sim --soak-hours \(hours): 4 speakers, ±100 ppm clocks swinging ±3 ppm over 4 h, 5 % of Time messages lost, 1 % spikes of 100 ms, the server down 5 s at \(hours / 2) h")
        var simulation = SyncSimulation(scenario: .soak(duration: duration, swingPeriod: 4 * 3600))
        let result = simulation.run()
        say(result.summary)
        say("")
        say("| hour | skew p50 µs | skew p99 µs | skew max µs |")
        say("|---:|---:|---:|---:|")
        for hour in 0..<Int(hours.rounded(.up)) {
            let values = result.skewSeries.filter { $0.time >= Double(hour) * 3600 + (hour == 0 ? 10 : 0) && $0.time < Double(hour + 1) * 3600 }.map(\.skew)
            let spread = Spread(values)
            say(String(format: "| %d | %.1f | %.1f | %.1f |", hour + 1, spread.p50, spread.p99, spread.max))
        }
        let back = Double(duration / 2) / 1e9 + 5
        let again = result.skewSeries.first { $0.time > back }.map { $0.time - back }
        let after = Spread(result.skewSeries.filter { $0.time > back + 5 && $0.time < back + 120 }.map(\.skew))
        say("")
        say(String(format: "restart: playing again %.2f s after the server came back; skew from 5 s to 2 min after: p99 %.1f µs, max %.1f µs", again ?? -1, after.p99, after.max))
        say(String(format: "(%.0f s of computing)", Date().timeIntervalSince(started)))
    }
}
