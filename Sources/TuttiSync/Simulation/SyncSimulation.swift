#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiTiming

/// Plays a ``SyncScenario`` in virtual time through the real ``ClockEstimator``,
/// ``TimeSyncSchedule`` and ``PlayoutScheduler``, and measures the result against the truth.
///
/// The server clock is the simulation's true time plus a constant. Each speaker has its own
/// ``VirtualClock`` (the clock its sync code reads) and a sound card clock a few ppm off it that
/// paces the output periods; Time messages and audio chunks cross a ``VirtualNetwork`` in order,
/// like TCP: a delayed chunk holds up the Time replies and chunks behind it. A speaker joining late gets the
/// still-playable backlog at once, as from a server that keeps its buffer.
///
/// What is measured never comes from a speaker's own estimate: for every output period the
/// simulation knows the true instant the DAC emits the period's first frame and which source
/// instant the scheduler put there (its resampler position), so deviation = true emission −
/// (source timestamp + buffer − latency). Inter-speaker skew is the spread (max − min) of the
/// speakers' deviations, interpolated onto a common grid.
public struct SyncSimulation: Sendable {
    enum Event: Sendable {
        case join(Int)
        case poll(Int)
        case reply(Int, id: UInt16, serverReceived: Nanos, serverSent: Nanos)
        case produce(Int)
        case arrive(Int, chunk: Int, serverSent: Nanos)
        case render(Int, period: Int64)
        case serverDown
        case serverUp
    }

    struct Speaker: Sendable {
        var clock: VirtualClock
        var device: VirtualClock
        var deviceStart: Nanos = 0
        var outputDelay: Nanos
        var joinTime: Nanos
        var joined = false
        var estimator: ClockEstimator
        var schedule: TimeSyncSchedule
        var scheduler: PlayoutScheduler
        var lastArrival: Nanos = .min
        var lastUplinkArrival: Nanos = .min
        var lockTime: Nanos?
        var firstAudio: Nanos?
        var emissions: [Nanos] = []
        var deviations: [Double] = []
        var offsetErrors: [Double] = []
        var signalPower = 0.0
        var noisePower = 0.0
        var output: [Float] = []
    }

    /// The scenario being played.
    public let scenario: SyncScenario
    var random: SeededRandom
    var speakers: [Speaker] = []
    var queue = EventQueue<Event>()
    let serverOffset: Nanos = 5_000 * .nanosPerSecond
    var producedChunks = 0
    var serverRunning = true
    /// When the server last (re)started: a restarted server has no backlog from before.
    var serverStarted: Nanos = 0

    /// Prepares a run: draws every speaker's clocks from the seed.
    public init(scenario: SyncScenario) {
        self.scenario = scenario
        random = SeededRandom(seed: scenario.seed)
        for (index, join) in scenario.joinTimes.enumerated() {
            let ppm = random.uniform(-scenario.maximumClockPPM...scenario.maximumClockPPM)
            let phase = random.uniform(0...(2 * Double.pi))
            let clock = VirtualClock(
                offset: Nanos(random.uniform(-1e12...1e12)), ppm: ppm, wanderPPM: scenario.wanderPPM,
                wanderPeriod: scenario.wanderPeriod, wanderPhase: phase)
            let devicePPM = ppm + random.uniform(-scenario.maximumDevicePPM...scenario.maximumDevicePPM)
            let device = VirtualClock(
                offset: Nanos(random.uniform(0...1e12)), ppm: devicePPM, wanderPPM: scenario.wanderPPM,
                wanderPeriod: scenario.wanderPeriod, wanderPhase: phase)
            var playout = PlayoutScheduler.Configuration(sampleRate: scenario.sampleRate, channels: scenario.channels)
            playout.hardSyncThreshold = scenario.hardSyncThreshold
            var scheduler = PlayoutScheduler(configuration: playout, buffer: scenario.buffer, latency: scenario.latency)
            scheduler.reserveCapacity(frames: scenario.periodFrames)
            speakers.append(Speaker(
                clock: clock, device: device,
                outputDelay: scenario.outputDelays[index % scenario.outputDelays.count], joinTime: join,
                estimator: ClockEstimator(configuration: scenario.estimator),
                schedule: TimeSyncSchedule(configuration: scenario.schedule), scheduler: scheduler))
            queue.push(.join(index), at: join)
        }
        queue.push(.produce(0), at: chunkTime(0) + chunkDuration)
        for restart in scenario.serverRestarts {
            queue.push(.serverDown, at: restart.at)
            queue.push(.serverUp, at: restart.at + restart.downFor)
        }
    }

    /// Plays the whole scenario and returns the measurements.
    public mutating func run() -> SyncSimulationResult {
        while let (time, event) = queue.pop(), time <= scenario.duration {
            switch event {
            case .join(let s): join(s, at: time)
            case .poll(let s): poll(s, at: time)
            case .reply(let s, let id, let received, let sent): reply(s, id: id, received: received, sent: sent, at: time)
            case .produce(let c): produce(c, at: time)
            case .arrive(let s, let c, let sent): arrive(s, chunk: c, serverSent: sent, at: time)
            case .render(let s, let k): render(s, period: k, at: time)
            case .serverDown: serverDown(at: time)
            case .serverUp: serverUp(at: time)
            }
        }
        return result()
    }

    // MARK: - Server

    var chunkDuration: Nanos { Nanos(scenario.chunkFrames) * .nanosPerSecond / Nanos(scenario.sampleRate) }

    /// True time of chunk `c`'s first frame (the server stamps server time = true + offset).
    func chunkTime(_ c: Int) -> Nanos { Nanos(c) * chunkDuration }

    func chunk(_ c: Int) -> AudioChunk {
        let stamp = serverOffset + chunkTime(c)
        guard scenario.renderSamples else { return AudioChunk(serverTime: stamp, silentFrames: scenario.chunkFrames) }
        var samples = [Float](repeating: 0, count: scenario.chunkFrames * scenario.channels)
        let first = Double(c * scenario.chunkFrames)
        for n in 0..<scenario.chunkFrames {
            let value = Float(0.5 * sin(2 * Double.pi * scenario.toneFrequency * (first + Double(n)) / Double(scenario.sampleRate)))
            for ch in 0..<scenario.channels { samples[n * scenario.channels + ch] = value }
        }
        return AudioChunk(serverTime: stamp, samples: samples, channels: scenario.channels)
    }

    mutating func produce(_ c: Int, at time: Nanos) {
        producedChunks = c + 1
        for s in speakers.indices where speakers[s].joined && serverRunning { send(c, to: s, at: time) }
        queue.push(.produce(c + 1), at: chunkTime(c + 1) + chunkDuration)
    }

    mutating func send(_ c: Int, to s: Int, at time: Nanos) {
        let delay = scenario.downlinkNetwork.delay(using: &random, losable: false, at: time) ?? 0
        let arrival = max(speakers[s].lastArrival, time + delay)
        speakers[s].lastArrival = arrival
        queue.push(.arrive(s, chunk: c, serverSent: (serverOffset + time) / 1000 * 1000), at: arrival)
    }

    // MARK: - Speakers

    mutating func join(_ s: Int, at time: Nanos) {
        speakers[s].joined = true
        // The server's backlog: every chunk produced that is still due to play.
        for c in 0..<producedChunks where chunkTime(c) + chunkDuration + scenario.buffer > time + 50 * .nanosPerMillisecond && chunkTime(c) >= serverStarted {
            send(c, to: s, at: time)
        }
        speakers[s].deviceStart = speakers[s].device.local(atTrue: time)
        queue.push(.render(s, period: 0), at: time)
        poll(s, at: time)
    }

    /// The server process dies: every connection drops; the speakers flush what they buffered
    /// and play silence, their devices still running.
    mutating func serverDown(at time: Nanos) {
        serverRunning = false
        for s in speakers.indices where speakers[s].joined { speakers[s].scheduler.flush() }
    }

    /// The server is back: each speaker that was connected reconnects (a new TCP connection,
    /// so nothing queues behind the old one's data) with the clock estimate it had.
    mutating func serverUp(at time: Nanos) {
        serverRunning = true
        serverStarted = time
        for s in speakers.indices where speakers[s].joined {
            speakers[s].lastArrival = time
            speakers[s].lastUplinkArrival = time
        }
    }

    mutating func poll(_ s: Int, at time: Nanos) {
        let now = speakers[s].clock.local(atTrue: time)
        let quality = speakers[s].estimator.quality
        let locked = speakers[s].estimator.isLocked
        while true {
            switch speakers[s].schedule.poll(now: now, quality: quality, isLocked: locked) {
            case .wait(let until):
                queue.push(.poll(s), at: max(time + 1, speakers[s].clock.trueTime(atLocal: until)))
                return
            case .send(let id):
                // No server, no answer: the request is lost.
                guard serverRunning else { continue }
                // Time messages share their connection's order with everything else on it (TCP):
                // a request waits behind earlier requests, a reply behind earlier audio chunks —
                // unless they travel as datagrams of their own.
                let ordered = !scenario.timeOverDatagrams
                guard let up = scenario.network.delay(using: &random, losable: true, at: time) else { continue }
                let received = ordered ? max(speakers[s].lastUplinkArrival, time + up) : time + up
                if ordered { speakers[s].lastUplinkArrival = received }
                let sent = received + 30_000
                guard let down = scenario.downlinkNetwork.delay(using: &random, losable: true, at: sent) else { continue }
                let arrival = ordered ? max(speakers[s].lastArrival, sent + down) : sent + down
                if ordered { speakers[s].lastArrival = arrival }
                // The wire carries microseconds.
                queue.push(
                    .reply(s, id: id, serverReceived: (serverOffset + received) / 1000 * 1000,
                           serverSent: (serverOffset + sent) / 1000 * 1000),
                    at: arrival)
            }
        }
    }

    mutating func arrive(_ s: Int, chunk c: Int, serverSent: Nanos, at time: Nanos) {
        // Data of a connection that dropped never arrives.
        guard serverRunning, chunkTime(c) >= serverStarted else { return }
        _ = speakers[s].scheduler.add(chunk(c))
        if scenario.oneWaySamples {
            _ = speakers[s].estimator.addOneWay(serverSent: serverSent, clientReceived: speakers[s].clock.local(atTrue: time))
        }
    }

    mutating func reply(_ s: Int, id: UInt16, received: Nanos, sent: Nanos, at time: Nanos) {
        let now = speakers[s].clock.local(atTrue: time)
        guard serverRunning, received >= serverOffset + serverStarted else { return }
        guard let t1 = speakers[s].schedule.replyReceived(requestID: id, now: now) else { return }
        let exchange = TimeExchange(clientSent: t1, serverReceived: received, serverSent: sent, clientReceived: now)
        _ = speakers[s].estimator.add(exchange)
        if speakers[s].lockTime == nil, speakers[s].estimator.isLocked { speakers[s].lockTime = time - speakers[s].joinTime }
    }

    mutating func render(_ s: Int, period k: Int64, at time: Nanos) {
        let next = speakers[s].render(period: k, at: time, scenario: scenario, serverOffset: serverOffset)
        queue.push(.render(s, period: k + 1), at: next)
    }
}

extension SyncSimulation.Speaker {
    /// Runs output period `k` (a device callback at true time `time`), records the truth, and
    /// returns the true time of the next callback.
    mutating func render(period k: Int64, at time: Nanos, scenario: SyncScenario, serverOffset: Nanos) -> Nanos {
        let frames = scenario.periodFrames
        let periodNanos = Double(frames) * 1e9 / Double(scenario.sampleRate)
        let deviceNow = deviceStart + Nanos((Double(k) * periodNanos).rounded())
        let localNow = clock.local(atTrue: time)
        let mapping = estimator.isLocked ? estimator.mapping : nil
        let report: PlayoutScheduler.Report
        if scenario.renderSamples {
            report = scheduler.render(into: &output, frames: frames, localNow: localNow, outputDelay: outputDelay, clock: mapping)
        } else {
            report = scheduler.advance(frames: frames, localNow: localNow, outputDelay: outputDelay, clock: mapping)
        }
        if let mapping {
            offsetErrors.append(Double(mapping.serverTime(atLocal: localNow) - (serverOffset + time)))
        }
        if let source = report.sourceTime, report.action != .silent {
            let emitted = device.trueTime(atLocal: deviceNow + outputDelay)
            let intended = source - serverOffset + scenario.buffer - scenario.latency
            if firstAudio == nil, report.framesFromSource > 0 { firstAudio = emitted - joinTime }
            emissions.append(emitted)
            deviations.append(Double(emitted - intended))
            if scenario.renderSamples, report.action == .corrected, report.framesFromSource == frames {
                measureSignal(source: source - serverOffset, ratio: report.ratio, scenario: scenario)
            }
        }
        let next = deviceStart + Nanos((Double(k + 1) * periodNanos).rounded())
        return device.trueTime(atLocal: next)
    }

    /// Compares a rendered period with the ideal tone at the positions the scheduler reported.
    mutating func measureSignal(source: Nanos, ratio: Double, scenario: SyncScenario) {
        let rate = Double(scenario.sampleRate)
        let start = Double(source) * rate / 1e9
        for j in 0..<scenario.periodFrames {
            let ideal = 0.5 * sin(2 * Double.pi * scenario.toneFrequency * (start + Double(j) * ratio) / rate)
            let actual = Double(output[j * scenario.channels])
            signalPower += ideal * ideal
            noisePower += (actual - ideal) * (actual - ideal)
        }
    }
}
