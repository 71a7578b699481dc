import Foundation

/// What a speaker process has just played, from its s16le stereo output (`--output
/// pipe:stdout`, snapclient's `--player file:filename=stdout`): level and tone per channel,
/// for tests that check a change was heard.
public struct PCMProbe: CustomStringConvertible {
    /// Interleaved left/right samples.
    public let samples: [Int16]
    public let rate: Int

    public init(samples: [Int16], rate: Int = 48_000) {
        self.samples = samples
        self.rate = rate
    }

    /// The last `seconds` of what `process` wrote, by arrival time (whole frames only).
    public static func recent(_ process: ChildProcess, seconds: Double, rate: Int = 48_000) -> PCMProbe {
        let since = monotonicNanos() - Int64(seconds * 1e9)
        var bytes = process.reads.filter { $0.arrival >= since }.flatMap(\.bytes)
        bytes.removeLast(bytes.count % 4)
        let samples = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        return PCMProbe(samples: samples.map { Int16(littleEndian: $0) }, rate: rate)
    }

    public func channel(_ index: Int) -> [Double] {
        stride(from: index, to: samples.count, by: 2).map { Double(samples[$0]) / 32768 }
    }

    /// RMS level of a channel in dBFS (−200 for digital silence).
    public func level(channel index: Int = 0) -> Double {
        let values = channel(index)
        guard !values.isEmpty else { return -200 }
        let mean = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        return mean > 0 ? 10 * log10(mean) : -200
    }

    /// The share of a channel's power at `frequency` (Goertzel), 0...1.
    public func toneShare(_ frequency: Double, channel index: Int = 0) -> Double {
        let values = channel(index)
        guard !values.isEmpty else { return 0 }
        let coefficient = 2 * cos(2 * Double.pi * frequency / Double(rate))
        var (s1, s2) = (0.0, 0.0)
        for value in values {
            let s0 = value + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        let total = values.reduce(0) { $0 + $1 * $1 }
        return total > 0 ? min(1, 2 * power / (Double(values.count) * total)) : 0
    }

    public var description: String {
        String(format: "%d frames, %.1f dBFS", samples.count / 2, level())
    }
}
