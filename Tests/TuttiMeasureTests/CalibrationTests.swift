import Foundation
import Testing
@testable import TuttiMeasure

/// A simulated room: each speaker plays its bursts when the plan says, its sound reaches the
/// microphone after a hidden delay with its own gain, through an echo (an exponentially
/// decaying noise tail), over background noise; the microphone's clock may run fast or slow.
struct SimulatedRoom {
    var rate = 16_000
    /// How much faster the microphone's sample clock runs, ppm.
    var microphonePPM = 0.0
    /// Background noise, RMS (full scale 1).
    var noiseRMS: Float = 0
    /// The echo: its length, seconds, and its level relative to the direct sound.
    var reverb: (seconds: Double, gain: Float)?
    var seed: UInt64 = 7

    /// What the microphone records from plan time `start` for `seconds`.
    func record(_ plan: CalibrationPlan, speakers: [String: (delay: Double, gain: Float)], start: Double, seconds: Double) -> [Float] {
        let count = Int(seconds * Double(rate))
        var recording = [Float](repeating: 0, count: count)
        var random = SplitMix(seed: seed)
        for speaker in plan.speakers {
            guard let path = speakers[speaker], path.gain != 0 else { continue }
            let emitted = withEcho(plan.signal(for: speaker), rate: plan.rate, random: &random)
            for emission in plan.emissions where emission.speaker == speaker {
                let arrival = emission.offset + path.delay
                // Sample n is taken at true time start + n / (rate · (1 + ppm)).
                let microphoneRate = Double(rate) * (1 + microphonePPM * 1e-6)
                let first = max(0, Int(((arrival - start) * microphoneRate).rounded(.down)))
                let last = min(count, Int(((arrival - start + Double(emitted.count) / Double(plan.rate)) * microphoneRate).rounded(.up)) + 1)
                guard first < last else { continue }
                for n in first..<last {
                    let t = start + Double(n) / microphoneRate - arrival
                    let position = t * Double(plan.rate)
                    let base = Int(position.rounded(.down))
                    guard base >= 0, base + 1 < emitted.count else { continue }
                    let fraction = Float(position - Double(base))
                    recording[n] += path.gain * (emitted[base] + (emitted[base + 1] - emitted[base]) * fraction)
                }
            }
        }
        if noiseRMS > 0 {
            for n in recording.indices {
                // Gaussian noise (Box–Muller).
                let u = max(random.unit(), 1e-12)
                let v = random.unit()
                recording[n] += noiseRMS * Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
            }
        }
        return recording
    }

    /// The burst followed by its echo (direct sound + tail), by FFT convolution.
    func withEcho(_ burst: [Float], rate: Int, random: inout SplitMix) -> [Float] {
        guard let reverb else { return burst }
        let length = Int(reverb.seconds * Double(rate))
        var response = [Float](repeating: 0, count: length)
        response[0] = 1
        let onset = rate / 200  // the first reflection 5 ms after the direct sound
        for index in onset..<length {
            let decay = Float(exp(-5 * Double(index) / Double(length)))
            response[index] = reverb.gain * decay * Float(random.unit() * 2 - 1) * 0.1
        }
        let padded = [Float](repeating: 0, count: length - 1) + burst + [Float](repeating: 0, count: length - 1)
        return FFT.crossCorrelation(padded, Array(response.reversed())).map { Float($0) }
    }
}

@Suite struct CalibrationTests {
    @Test func theFFTCorrelatesAsTheDirectSumDoes() {
        var random = SplitMix(seed: 3)
        let signal = (0..<300).map { _ in Float(random.unit() * 2 - 1) }
        let template = Array(signal[40..<90])
        let fast = FFT.crossCorrelation(signal, template)
        #expect(fast.count == 251)
        for k in [0, 17, 40, 250] {
            let direct = (0..<50).reduce(0.0) { $0 + Double(signal[k + $1]) * Double(template[$1]) }
            #expect(abs(fast[k] - direct) < 1e-6 * max(1, abs(direct)), "k = \(k)")
        }
        #expect(fast.indices.max { abs(fast[$0]) < abs(fast[$1]) } == 40)
    }

    @Test func eachSpeakersBurstIsItsOwn() {
        let plan = CalibrationPlan(speakers: ["a", "b", "c"], rate: 16_000)
        let bursts = plan.speakers.map { plan.signal(for: $0) }
        let energy = { (x: [Float]) in x.reduce(0.0) { $0 + Double($1) * Double($1) } }
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            let correlation = FFT.crossCorrelation(bursts[i] + [Float](repeating: 0, count: bursts[j].count), bursts[j])
            let peak = correlation.map(abs).max() ?? 0
            #expect(peak / (energy(bursts[i]) * energy(bursts[j])).squareRoot() < 0.1, "bursts \(i) and \(j) look alike")
        }
        #expect(plan.signal(for: "a") == CalibrationPlan(speakers: ["a", "x"], rate: 16_000).signal(for: "a"), "a burst depends only on the plan")
    }

    @Test func delaysFromNothingTo800msAreFoundToATenthOfAMillisecond() {
        let delays: [String: Double] = ["a": 0, "b": 0.180, "c": 0.3105, "d": 0.795]
        let plan = CalibrationPlan(speakers: ["a", "b", "c", "d"], rate: 16_000)
        let room = SimulatedRoom()
        let recording = room.record(plan, speakers: delays.mapValues { ($0, 0.5) }, start: -0.1, seconds: plan.duration + 0.2)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: -0.1, plan: plan, clockKnown: true)
        #expect(result.absolute)
        for (speaker, delay) in delays {
            let measured = result.measurement(speaker)
            #expect(measured?.status == .measured, "\(speaker): \(String(describing: measured))")
            #expect(abs((measured?.delay ?? 99) - delay) < 0.0001, "\(speaker): \(String(describing: measured?.delay)) for \(delay)")
            #expect((measured?.peakToSidelobeDB ?? 0) > 30)
            #expect(measured?.found == 3)
        }
    }

    @Test func noiseAsLoudAsTheBurstsAndAnEchoStillGiveTheDelaysWithinAMillisecond() {
        let delays: [String: Double] = ["a": 0.05, "b": 0.23, "c": 0.61]
        let plan = CalibrationPlan(speakers: ["a", "b", "c"], rate: 16_000)
        // The bursts' RMS at gain 0.5 is about 0.5 · 0.25; the noise is as loud (0 dB SNR).
        let burstRMS = Float((plan.signal(for: "a").reduce(0.0) { $0 + Double($1) * Double($1) } / Double(plan.signal(for: "a").count)).squareRoot()) * 0.5
        let room = SimulatedRoom(noiseRMS: burstRMS, reverb: (0.3, 0.7))
        let recording = room.record(plan, speakers: delays.mapValues { ($0, 0.5) }, start: -0.05, seconds: plan.duration + 0.1)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: -0.05, plan: plan, clockKnown: true)
        for (speaker, delay) in delays {
            let measured = result.measurement(speaker)
            #expect(measured?.status == .measured, "\(speaker): \(String(describing: measured))")
            #expect(abs((measured?.delay ?? 99) - delay) < 0.001, "\(speaker): \(String(describing: measured?.delay)) for \(delay)")
            #expect((measured?.peakToSidelobeDB ?? 0) >= CalibrationAnalysis.minimumPeakToSidelobeDB)
        }
    }

    @Test func aSilentOrFarTooQuietSpeakerIsReportedAsSuchWithNoDelay() {
        let plan = CalibrationPlan(speakers: ["loud", "silent", "whisper"], rate: 16_000)
        let room = SimulatedRoom(noiseRMS: 0.05)
        let recording = room.record(
            plan, speakers: ["loud": (0.12, 0.5), "silent": (0.2, 0), "whisper": (0.3, 0.0005)], start: 0, seconds: plan.duration)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: 0, plan: plan, clockKnown: true)
        #expect(result.measurement("loud")?.status == .measured)
        for speaker in ["silent", "whisper"] {
            let measured = result.measurement(speaker)
            #expect(measured?.status == .tooQuiet, "\(speaker): \(String(describing: measured))")
            #expect(measured?.delay == nil)
            #expect((measured?.peakToSidelobeDB ?? 99) < CalibrationAnalysis.minimumPeakToSidelobeDB)
        }
    }

    @Test(arguments: [200.0, -200.0])
    func aMicrophoneWhoseClockIsOffBy200ppmGivesRelativeDelaysAndItsRate(ppm: Double) {
        let delays: [String: Double] = ["a": 0.1, "b": 0.28, "c": 0.55]
        // A phone: it knows only roughly (±0.3 s) when it started recording.
        let plan = CalibrationPlan(speakers: ["a", "b", "c"], rate: 16_000, timingUncertaintySeconds: 0.4)
        let room = SimulatedRoom(microphonePPM: ppm, noiseRMS: 0.02, reverb: (0.2, 0.5))
        let recording = room.record(plan, speakers: delays.mapValues { ($0, 0.5) }, start: -0.2, seconds: plan.duration + 0.5)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: 0.1, plan: plan, clockKnown: false)
        #expect(!result.absolute)
        #expect(result.reference == "a")
        #expect(abs((result.microphoneRatePPM ?? 0) - ppm) < 30, "rate \(String(describing: result.microphoneRatePPM)) for a microphone \(ppm) ppm fast")
        for (speaker, delay) in delays {
            let measured = result.measurement(speaker)
            #expect(measured?.status == .measured, "\(speaker): \(String(describing: measured))")
            #expect(abs((measured?.delay ?? 99) - (delay - delays["a"]!)) < 0.001, "\(speaker): \(String(describing: measured?.delay))")
        }
    }

    @Test func levelsAtTheMicrophoneShowWhichSpeakerIsLouder() {
        let plan = CalibrationPlan(speakers: ["jbl", "bose"], rate: 16_000)
        let recording = SimulatedRoom(noiseRMS: 0.01).record(plan, speakers: ["jbl": (0.2, 0.8), "bose": (0.25, 0.4)], start: 0, seconds: plan.duration)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: 0, plan: plan, clockKnown: true)
        let difference = (result.measurement("jbl")?.levelDB ?? 0) - (result.measurement("bose")?.levelDB ?? 0)
        #expect(abs(difference - 6.02) < 0.3, "the JBL is twice as loud: \(difference) dB")
        #expect(abs((result.measurement("jbl")?.levelDB ?? 0) - 20 * log10(0.8)) < 0.3)
        let trims = result.volumeTrimsDB
        #expect(abs((trims["jbl"] ?? 0) + 6.02) < 0.3, "the JBL is turned down to the Bose's level: \(trims)")
        #expect(trims["bose"] == 0)
    }

    @Test func repeatsThatDisagreeAreInconsistentNotAveragedIntoAFalseResult() {
        let plan = CalibrationPlan(speakers: ["steady", "wandering"], rate: 16_000)
        // The wandering speaker's delay jumps by 20 ms between its repeats (as a Bluetooth
        // speaker's buffer can): one recording per repeat, summed.
        var recording = SimulatedRoom().record(plan, speakers: ["steady": (0.1, 0.5)], start: 0, seconds: plan.duration)
        for (round, delay) in [0.2, 0.22, 0.24].enumerated() {
            var single = plan
            single.emissions = plan.emissions.filter { $0.speaker == "wandering" && $0.round == round }
            let part = SimulatedRoom().record(single, speakers: ["wandering": (delay, 0.5)], start: 0, seconds: plan.duration)
            for index in recording.indices { recording[index] += part[index] }
        }
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 16_000, start: 0, plan: plan, clockKnown: true)
        #expect(result.measurement("steady")?.status == .measured)
        #expect(result.measurement("wandering")?.status == .inconsistent)
        #expect((result.measurement("wandering")?.spreadMs ?? 0) > 1)
    }

    @Test func aFullRateRecordingWorksToo() {
        let plan = CalibrationPlan(speakers: ["a", "b"], rate: 48_000, rounds: 2)
        let recording = SimulatedRoom(rate: 48_000, noiseRMS: 0.01).record(plan, speakers: ["a": (0.0, 0.5), "b": (0.4321, 0.5)], start: 0, seconds: plan.duration)
        let result = CalibrationAnalysis.analyze(recording: recording, rate: 48_000, start: 0, plan: plan, clockKnown: true)
        #expect(abs((result.measurement("b")?.delay ?? 9) - 0.4321) < 0.0001)
    }
}
