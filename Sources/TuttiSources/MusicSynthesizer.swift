import TuttiTiming
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small deterministic synthesizer for `tone://?kind=music`: what demos and benchmarks play.
///
/// At 120 bpm it loops C – G – Am – F, one bar (2 s) per chord: a sustained pad of the triad
/// (three harmonics per note, the left channel detuned a few cents down and the right up), a bass
/// on beats 1 and 3, an eighth-note arpeggio panned left and right in turn, a kick on 1 and 3, a
/// snare on 2 and 4 and a hi-hat on the off-beats. Noise comes from a seeded SeededRandom, so the
/// output is the same for the same rate and seed. Output peaks stay within -1...1.
struct MusicSynthesizer {
    private let rate: Double
    private var frame: Int64 = 0
    private var random: SeededRandom
    /// Per pad note: phases for the left and right channel.
    private var padPhases = [(0.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    private var bassPhase = 0.0
    private var arpeggioPhase = 0.0
    private var kickPhase = 0.0
    private var snarePhase = 0.0
    private var previousNoise = 0.0

    private static let beatSeconds = 0.5
    /// MIDI notes of each bar's triad, and its bass note.
    private static let progression: [(triad: [Double], bass: Double)] = [
        ([60, 64, 67], 36),  // C
        ([55, 59, 62], 43),  // G
        ([57, 60, 64], 45),  // Am
        ([53, 57, 60], 41),  // F
    ]
    private static let detuneCents = 6.0

    init(rate: Double, seed: UInt64) {
        self.rate = rate
        self.random = SeededRandom(seed: seed)
    }

    /// The next stereo frame, each channel within -1...1.
    mutating func nextFrame() -> (left: Double, right: Double) {
        let seconds = Double(frame) / rate
        frame += 1
        let beatPosition = seconds / Self.beatSeconds
        let beat = Int(beatPosition)
        let secondsInBeat = (beatPosition - Double(beat)) * Self.beatSeconds
        let beatInBar = beat % 4
        let bar = (beat / 4) % Self.progression.count
        let secondsInBar = Double(beatInBar) * Self.beatSeconds + secondsInBeat
        let chord = Self.progression[bar]

        var left = 0.0
        var right = 0.0

        // Pad: attack 60 ms, then a slow fall to a sustain level; harmonics 1, 1/2, 1/4.
        let padEnvelope = min(secondsInBar / 0.06, 1) * (0.35 + 0.65 * exp(-secondsInBar / 1.2))
        let detune = pow(2, Self.detuneCents / 1200)
        for (index, note) in chord.triad.enumerated() {
            let frequency = Self.hertz(note)
            var (phaseLeft, phaseRight) = padPhases[index]
            left += padEnvelope * 0.09 * Self.harmonics(phaseLeft)
            right += padEnvelope * 0.09 * Self.harmonics(phaseRight)
            phaseLeft = Self.advance(phaseLeft, by: frequency / detune / rate)
            phaseRight = Self.advance(phaseRight, by: frequency * detune / rate)
            padPhases[index] = (phaseLeft, phaseRight)
        }

        // Bass on beats 1 and 3, lasting two beats.
        let secondsSinceBass = Double(beatInBar % 2) * Self.beatSeconds + secondsInBeat
        let bass = min(secondsSinceBass / 0.01, 1) * exp(-secondsSinceBass / 0.35) * 0.16
            * (sin(2 * .pi * bassPhase) + 0.3 * sin(4 * .pi * bassPhase))
        bassPhase = Self.advance(bassPhase, by: Self.hertz(chord.bass) / rate)
        left += bass
        right += bass

        // Arpeggio: eighth notes up the triad an octave higher, alternating left and right.
        let eighth = Int(beatPosition * 2)
        let secondsInEighth = secondsInBeat.truncatingRemainder(dividingBy: Self.beatSeconds / 2)
        let arpeggioNote = chord.triad[eighth % 3] + 12
        let arpeggio = min(secondsInEighth / 0.005, 1) * exp(-secondsInEighth / 0.12) * 0.1
            * Self.harmonics(arpeggioPhase)
        arpeggioPhase = Self.advance(arpeggioPhase, by: Self.hertz(arpeggioNote) / rate)
        let pan = eighth % 2 == 0 ? 0.8 : 0.2
        left += arpeggio * (1 - pan) * 2
        right += arpeggio * pan * 2

        // Percussion.
        let noise = random.nextUnit()
        let highPassedNoise = noise - previousNoise
        previousNoise = noise
        if beatInBar % 2 == 0 {
            let kickFrequency = 45 + 75 * exp(-secondsInBeat / 0.03)
            let kick = exp(-secondsInBeat / 0.12) * 0.22 * sin(2 * .pi * kickPhase)
            kickPhase = Self.advance(kickPhase, by: kickFrequency / rate)
            left += kick
            right += kick
        } else {
            kickPhase = 0
            let snare = exp(-secondsInBeat / 0.09) * (0.08 * noise + 0.06 * sin(2 * .pi * snarePhase))
            snarePhase = Self.advance(snarePhase, by: 185 / rate)
            left += snare * 0.9
            right += snare * 1.1
        }
        if secondsInBeat >= Self.beatSeconds / 2 {
            let hat = exp(-(secondsInBeat - Self.beatSeconds / 2) / 0.03) * 0.04 * highPassedNoise
            left += hat * 0.7
            right += hat * 1.3
        }
        return (min(max(left, -1), 1), min(max(right, -1), 1))
    }

    private static func hertz(_ midiNote: Double) -> Double {
        440 * pow(2, (midiNote - 69) / 12)
    }

    private static func harmonics(_ phase: Double) -> Double {
        let angle = 2 * Double.pi * phase
        return sin(angle) + 0.5 * sin(2 * angle) + 0.25 * sin(3 * angle)
    }

    private static func advance(_ phase: Double, by step: Double) -> Double {
        let next = phase + step
        return next >= 1 ? next - next.rounded(.down) : next
    }
}

extension SeededRandom {
    /// Uniform in -1...1.
    mutating func nextUnit() -> Double { 2 * unit() - 1 }
}
