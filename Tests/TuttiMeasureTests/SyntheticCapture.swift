import TuttiTiming
import Foundation
import TuttiMeasure

/// A small, fast, seeded generator (SplitMix64), so every synthetic capture is the same on
/// every run.
struct TestRandom {
    private var base: SeededRandom

    init(seed: UInt64) { base = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { base.next() }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    mutating func exponential(mean: Double) -> Double { -mean * log1p(-unit()) }
}

/// A deterministic music-like source at 48 kHz: three voices playing notes with attack/decay
/// envelopes (110–1320 Hz, with a second harmonic) plus low-passed noise bursts.
enum MusicLikeSignal {
    static func render(seconds: Double, sampleRate: Int = 48_000, seed: UInt64 = 7) -> [Float] {
        var random = TestRandom(seed: seed)
        let count = Int(seconds * Double(sampleRate))
        var output = [Float](repeating: 0, count: count)
        let rate = Double(sampleRate)
        for _ in 0..<3 {
            var position = 0
            var phase = 0.0
            while position < count {
                let length = Int(random.uniform(0.15...0.5) * rate)
                let frequency = 110 * pow(2, (random.uniform(0...36)).rounded() / 12)
                let amplitude = random.uniform(0.05...0.18)
                let step = 2 * Double.pi * frequency / rate
                for i in 0..<min(length, count - position) {
                    let t = Double(i) / rate
                    let envelope = min(1, t / 0.01) * exp(-t * 4)
                    output[position + i] += Float(amplitude * envelope * (sin(phase) + 0.3 * sin(2 * phase)))
                    phase += step
                }
                position += length
            }
        }
        var position = Int(random.uniform(0...0.2) * rate)
        while position < count {
            let length = Int(random.uniform(0.02...0.08) * rate)
            var (first, second) = (0.0, 0.0)
            for i in 0..<min(length, count - position) {
                first += 0.35 * (random.uniform(-1...1) - first)
                second += 0.35 * (first - second)
                output[position + i] += Float(0.6 * second * sin(Double.pi * Double(i) / Double(length)))
            }
            position += length + Int(random.uniform(0.1...0.4) * rate)
        }
        return output
    }

    /// `signal` at fractional index `position` by 4-point cubic Lagrange interpolation; 0
    /// outside the signal.
    static func sample(_ signal: [Float], at position: Double) -> Double {
        let base = Int(position.rounded(.down))
        let f = position - Double(base)
        func s(_ i: Int) -> Double { i >= 0 && i < signal.count ? Double(signal[i]) : 0 }
        let (a, b, c, d) = (s(base - 1), s(base), s(base + 1), s(base + 2))
        return -f * (f - 1) * (f - 2) / 6 * a + (f + 1) * (f - 1) * (f - 2) / 2 * b
            - (f + 1) * f * (f - 2) / 2 * c + (f + 1) * f * (f - 1) / 6 * d
    }
}

/// One simulated player and the harness reading its pipe: the truth is known exactly.
///
/// The group schedule says source sample k plays at `scheduleOrigin + k/rate` (true time =
/// harness time). This player emits it `delay` later, from an output clock `ppm` fast, in
/// blocks of `blockFrames` written `lead` before their first frame is due; its output starts at
/// `outputStart` (silence until the source begins). After source sample `dropAt` it skips one
/// sample, so from then on it plays one sample early.
struct SimulatedPlayer {
    /// True emission time (harness ns) of output frame `n`.
    func emission(ofFrame n: Int, sampleRate: Int = 48_000) -> Double {
        let framePeriod = 1e9 / (Double(sampleRate) * (1 + ppm * 1e-6))
        let stalled = stall.map { n >= $0.frame ? $0.nanoseconds : 0 } ?? 0
        return outputStart + Double(n) * framePeriod + stalled
    }

    var name: String
    var delayNanoseconds = 0.0
    var ppm = 0.0
    var gain = 1.0
    var blockFrames = 2400
    var leadNanoseconds: Int64 = 5_000_000
    var outputStart = 0.0
    var outputSeconds = 10.0
    var dropAt: Int?
    /// Output frames from `frame` on leave `nanoseconds` later (the player stalled); the
    /// content follows the schedule, so the frames it would have played meanwhile are skipped.
    var stall: (frame: Int, nanoseconds: Double)?
    var silent = false
    /// Bytes per harness read (65 536 or 8 192 in the real harness).
    var readPieceBytes = 65_536
    /// Read delay: 10 µs plus an exponential of this mean, plus, with `spikeProbability`, a
    /// uniform 1 ms…`spikeMaximum`.
    var jitterMeanNanoseconds = 25_000.0
    var spikeProbability = 0.02
    var spikeMaximumNanoseconds = 5e6
    var seed: UInt64 = 1

    /// The harness's reads of this player's stdout.
    func capture(source: [Float], scheduleOrigin: Double, sampleRate: Int = 48_000) -> PlayerCapture {
        var random = TestRandom(seed: seed)
        let rate = Double(sampleRate)
        let frames = Int(outputSeconds * rate)
        var writes: [(time: Double, bytes: [UInt8])] = []
        var block = 0
        while block < frames {
            let count = min(blockFrames, frames - block)
            var bytes = [UInt8]()
            bytes.reserveCapacity(count * 4)
            for n in block..<(block + count) {
                let emitted = emission(ofFrame: n, sampleRate: sampleRate)
                var k = (emitted - delayNanoseconds - scheduleOrigin) * rate / 1e9
                if let dropAt, k >= Double(dropAt) { k += 1 }
                let value = silent || k < 0 ? 0 : gain * MusicLikeSignal.sample(source, at: k)
                let left = Int16(max(-32_767, min(32_767, (value * 32_767).rounded())))
                let right = Int16(max(-32_767, min(32_767, (0.8 * value * 32_767).rounded())))
                for s in [left, right] {
                    bytes.append(UInt8(truncatingIfNeeded: s))
                    bytes.append(UInt8(truncatingIfNeeded: s >> 8))
                }
            }
            writes.append((emission(ofFrame: block, sampleRate: sampleRate) - Double(leadNanoseconds), bytes))
            block += count
        }
        var capture = PlayerCapture(name: name, leadNanoseconds: leadNanoseconds)
        var lastRead = -Double.infinity
        var written = 0  // writes fully handed to the reader
        var pending: [UInt8] = []
        for write in writes.indices {
            guard write >= written else { continue }
            var wake = writes[write].time + 10_000 + random.exponential(mean: jitterMeanNanoseconds)
            if random.unit() < spikeProbability { wake += random.uniform(1e6...spikeMaximumNanoseconds) }
            wake = max(wake, lastRead + 2_000)
            while written < writes.count, writes[written].time <= wake {
                pending += writes[written].bytes
                written += 1
            }
            var stamp = wake
            while !pending.isEmpty {
                let piece = Array(pending.prefix(readPieceBytes))
                pending.removeFirst(piece.count)
                capture.append(arrival: Int64(stamp.rounded()), bytes: piece)
                stamp += 3_000
                if random.unit() < 0.01 { stamp += random.uniform(2e6...4e6) }  // descheduled mid-write
            }
            lastRead = stamp
        }
        return capture
    }

    /// This player's deviation from the group median of `delays`, in µs, before any drop.
    static func truth(_ delay: Double, among delays: [Double]) -> Double {
        let sorted = delays.sorted()
        let middle = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return (delay - middle) / 1_000
    }
}
