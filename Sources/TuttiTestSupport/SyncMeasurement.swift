import Foundation

/// Measures, from outside the players, how far apart two players of the counter signal are.
///
/// Each stdout read is stamped with CLOCK_MONOTONIC when it arrives in the test process. Only
/// reads that begin a player's write count (the first read after a pause of 5 ms or more: a
/// large write reaches the reader in several pieces at once). For such a read that begins with
/// signal frame k, `arrival − k/rate` estimates when the player emitted
/// frame 0 (its "epoch"); two players in sync have the same epoch. The 16-bit counter wraps
/// every 65,536 frames, so the difference is unwrapped to the nearest 65,536/rate seconds.
public enum SyncMeasurement {
    public struct Skew: CustomStringConvertible, Sendable {
        public var medianMicroseconds: Double
        public var p99Microseconds: Double
        public var pairs: Int
        public var description: String {
            String(format: "skew median %.1f µs, |skew| p99 %.1f µs over %d paired writes", medianMicroseconds, p99Microseconds, pairs)
        }
    }

    /// Epochs (ns) for every read that starts on a signal frame.
    public static func epochs(_ reads: [ChildProcess.Read], rate: Int) -> [(arrival: Int64, epoch: Double)] {
        var offset = 0
        var firstSignalFrame: Int?
        var firstCounter = 0
        var result: [(Int64, Double)] = []
        var previousArrival = Int64.min / 2
        for read in reads {
            defer {
                offset += read.bytes.count
                previousArrival = read.arrival
            }
            guard read.arrival - previousArrival >= 5_000_000, offset % 4 == 0, read.bytes.count >= 4 else { continue }
            let left = Int16(littleEndian: read.bytes.withUnsafeBytes { $0.loadUnaligned(as: Int16.self) })
            let right = Int16(littleEndian: read.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: Int16.self) })
            guard !(left == 0 && right == 0), right == ~left else { continue }
            let frame = offset / 4
            if firstSignalFrame == nil {
                firstSignalFrame = frame
                firstCounter = Int(UInt16(bitPattern: left))
            }
            let index = firstCounter + (frame - firstSignalFrame!)
            result.append((read.arrival, Double(read.arrival) - Double(index) * 1e9 / Double(rate)))
        }
        return result
    }

    public static func skew(_ a: [ChildProcess.Read], _ b: [ChildProcess.Read], rate: Int) -> Skew? {
        let ea = epochs(a, rate: rate), eb = epochs(b, rate: rate)
        guard !ea.isEmpty, !eb.isEmpty else { return nil }
        let wrap = 65_536 * 1e9 / Double(rate)
        var diffs: [Double] = []
        var j = 0
        for (arrival, epoch) in ea {
            while j + 1 < eb.count, abs(eb[j + 1].arrival - arrival) <= abs(eb[j].arrival - arrival) { j += 1 }
            guard abs(eb[j].arrival - arrival) < 100_000_000 else { continue }
            var diff = epoch - eb[j].epoch
            diff -= (diff / wrap).rounded() * wrap
            diffs.append(diff / 1000)
        }
        guard !diffs.isEmpty else { return nil }
        let sorted = diffs.sorted()
        let magnitudes = diffs.map(abs).sorted()
        return Skew(
            medianMicroseconds: sorted[sorted.count / 2],
            p99Microseconds: magnitudes[min(magnitudes.count - 1, Int(Double(magnitudes.count) * 0.99))],
            pairs: diffs.count)
    }
}
