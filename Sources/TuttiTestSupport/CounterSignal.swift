import Foundation
import Synchronization

/// A test signal in which every stereo s16 frame says where it is: frame n has
/// `left = Int16(truncatingIfNeeded: n)` and `right = ~left`. It never contains the silent
/// frame (0, 0), so a player's padding is told apart from the signal, and any dropped,
/// doubled or reordered frame breaks the count.
public enum CounterSignal {
    public static func bytes(frames range: Range<Int>) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(range.count * 4)
        for n in range {
            let left = Int16(truncatingIfNeeded: n)
            let right = ~left
            withUnsafeBytes(of: left.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: right.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    public struct Analysis: Sendable {
        /// Silent frames before the signal began.
        public var leadingSilence = 0
        /// Frames of unbroken signal after the silence.
        public var signalFrames = 0
        /// Index of the first frame that broke the sequence (nil: none did).
        public var firstBreak: Int?
        /// Counter value (low 16 bits) of the first signal frame.
        public var firstCounter: Int16 = 0
        /// Single frames dropped or played twice, when tolerated (a player's own sync
        /// corrections: snapclient nudges its playout by a frame at a time).
        public var corrections = 0
    }

    /// Checks s16 stereo output: silence, then an unbroken count to the end (a partial frame at
    /// the end, from a killed player, is ignored).
    ///
    /// With `toleratingSingleFrames`, one frame skipped or repeated is counted in
    /// ``Analysis/corrections`` rather than as a break.
    public static func analyze(_ output: [UInt8], toleratingSingleFrames: Bool = false) -> Analysis {
        var result = Analysis()
        let frames = output.count / 4
        var expected: Int16?
        output.withUnsafeBytes { raw in
            for index in 0..<frames {
                let left = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int16.self))
                let right = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4 + 2, as: Int16.self))
                if let value = expected {
                    if toleratingSingleFrames, right == ~left, left == value &+ 1 || left == value &- 1 {
                        result.corrections += 1
                        result.signalFrames += 1
                        expected = left &+ 1
                        continue
                    }
                    guard left == value, right == ~left else { result.firstBreak = index; return }
                    result.signalFrames += 1
                    expected = value &+ 1
                } else if left == 0, right == 0 {
                    result.leadingSilence += 1
                } else if right == ~left {
                    result.firstCounter = left
                    result.signalFrames = 1
                    expected = left &+ 1
                } else {
                    result.firstBreak = index
                    return
                }
            }
        }
        return result
    }
}

extension CounterSignal {
    /// The (left, right) values of the frames around `index` (3 each side), for a failure
    /// message; empty for nil.
    public static func frames(_ output: [UInt8], around index: Int?) -> [String] {
        guard let index else { return [] }
        let frames = output.count / 4
        return (max(0, index - 3)..<min(frames, index + 4)).map { frame in
            let left = Int16(bitPattern: UInt16(output[frame * 4]) | UInt16(output[frame * 4 + 1]) << 8)
            let right = Int16(bitPattern: UInt16(output[frame * 4 + 2]) | UInt16(output[frame * 4 + 3]) << 8)
            return "\(frame): \(left)/\(right)"
        }
    }
}

/// Writes the counter signal into a FIFO from a thread, as fast as the reader takes it (the
/// server paces itself, so the writer blocks), until stopped or `totalFrames` are written.
public final class FIFOWriter: @unchecked Sendable {
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    /// Writes `totalFrames` of `signal` (counter signal by default) into the FIFO at `path`.
    public init(path: String, totalFrames: Int, blockFrames: Int = 960, signal generate: @escaping @Sendable (Range<Int>) -> [UInt8] = CounterSignal.bytes(frames:)) {
        signal(SIGPIPE, SIG_IGN)  // a reader that dies must not kill the test process
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var next = 0
            while next < totalFrames, !stopped.withLock({ $0 }) {
                let block = generate(next..<min(totalFrames, next + blockFrames))
                var offset = 0
                while offset < block.count {
                    let written = block[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if written <= 0 { return }
                    offset += written
                }
                next += blockFrames
            }
        }
    }

    public func stop() {
        stopped.withLock { $0 = true }
        done.wait()
    }
}
