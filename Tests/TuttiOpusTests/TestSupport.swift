import Foundation
import Testing
import TuttiTiming
import TuttiAudio
@testable import TuttiOpus

let stereo48k = SampleFormat(rate: 48_000, bits: 16, channels: 2)

/// A stereo test tone at 48 kHz, 16-bit: left is mostly 1 kHz, right mostly 440 Hz, each with a
/// little of the other (peaks at −4.4 dBFS, no clipping). Interleaved, little-endian Int16.
func stereoTone(seconds: Double) -> [Int16] {
    let frames = Int(48_000 * seconds)
    var samples = [Int16](repeating: 0, count: frames * 2)
    for i in 0..<frames {
        let t = Double(i) / 48_000
        let a = sin(2 * .pi * 1000 * t), b = sin(2 * .pi * 440 * t)
        samples[2 * i] = Int16((0.4 * a + 0.2 * b) * 32767)
        samples[2 * i + 1] = Int16((0.2 * a + 0.4 * b) * 32767)
    }
    return samples
}

/// Feeds `samples` to `encoder` in pieces of `framesPerCall` frames, timestamped on the sample
/// clock from `start` (ns); returns every packet.
func encodeInPieces(_ encoder: inout OpusEncoder, _ samples: [Int16], framesPerCall: Int,
                    start: Int64 = 1_000_000_000) -> [EncodedPacket] {
    let channels = encoder.format.channels
    let frames = samples.count / channels
    var packets: [EncodedPacket] = []
    var frame = 0
    while frame < frames {
        let count = min(framesPerCall, frames - frame)
        let timestamp = start + encoder.format.nanoseconds(frames: frame)
        packets += samples[(frame * channels)..<((frame + count) * channels)].withUnsafeBytes {
            encoder.encode($0, timestamp: timestamp)
        }
        frame += count
    }
    return packets
}

/// Decodes every packet and concatenates the samples.
func decodeAll(_ packets: [EncodedPacket], header: [UInt8]) throws -> [Float] {
    var decoder = try OpusDecoder(header: header)
    var output: [Float] = []
    for packet in packets {
        output += try packet.bytes.withUnsafeBytes { try decoder.decode($0) }
    }
    return output
}

/// One channel of interleaved samples as Double in −1...1.
func channel(_ samples: [Int16], _ index: Int, of channels: Int) -> [Double] {
    stride(from: index, to: samples.count, by: channels).map { Double(samples[$0]) / 32768 }
}

func channel(_ samples: [Float], _ index: Int, of channels: Int) -> [Double] {
    stride(from: index, to: samples.count, by: channels).map { Double(samples[$0]) }
}

/// The lag (in frames, 0...maxLag) at which `output` best matches `source` by cross-correlation.
func bestLag(source: [Double], output: [Double], maxLag: Int) -> Int {
    // Half a second after the start-up is plenty for a steady tone and keeps debug builds quick.
    let window = 4800..<min(28_800, min(source.count, output.count) - maxLag)
    var best = (lag: 0, score: -Double.infinity)
    for lag in 0...maxLag {
        var score = 0.0
        for i in window { score += source[i] * output[i + lag] }
        if score > best.score { best = (lag, score) }
    }
    return best.lag
}

func rms(_ x: ArraySlice<Double>) -> Double { (x.reduce(0) { $0 + $1 * $1 } / Double(x.count)).squareRoot() }

func decibels(_ ratio: Double) -> Double { 20 * log10(ratio) }

/// A small deterministic generator (SplitMix64) for random packets.
struct SplitMix64: RandomNumberGenerator {
    private var base: SeededRandom
    init(state: UInt64) { base = SeededRandom(seed: state) }
    mutating func next() -> UInt64 { base.next() }

    /// `count` random bytes, eight at a time.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (count + 7) / 8 * 8)
        bytes.withUnsafeMutableBytes { raw in
            for i in 0..<(raw.count / 8) { raw.storeBytes(of: next(), toByteOffset: i * 8, as: UInt64.self) }
        }
        return Array(bytes.prefix(count))
    }
}
