import Foundation

/// A test signal that survives resampling and still says where it is: the left channel counts
/// frames (`Int16(truncatingIfNeeded: n)`, a ramp of slope 1 that resamples almost exactly
/// except near its wrap every 65,536 frames), the right carries two tones at non-integer
/// frequencies, the material for an SNR measurement.
public enum RampToneSignal {
    public static func frame(_ n: Int) -> (left: Int16, right: Int16) {
        let t = Double(n) / 48_000
        let right = 8000 * sin(2 * .pi * 441.3 * t) + 6000 * sin(2 * .pi * 1234.7 * t + 1)
        return (Int16(truncatingIfNeeded: n), Int16(right.rounded()))
    }

    public static func bytes(frames range: Range<Int>) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(range.count * 4)
        for n in range {
            let (left, right) = frame(n)
            withUnsafeBytes(of: left.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: right.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}

/// Compares what a player played with the ``RampToneSignal`` it was fed: bit-exact, or else
/// per 50 ms block the fractional delay and rate that best aligns it and the SNR after that alignment.
public enum PlaybackCheck {
    public struct Block: Sendable {
        /// Output frame index where the block starts.
        public var start: Int
        /// Source position of the block's first frame (fractional).
        public var sourcePosition: Double
        public var snr: Double
        /// Output level relative to the source's, in dB (tone channel).
        public var levelDB: Double
    }

    public struct Result: Sendable, CustomStringConvertible {
        public var leadingSilence = 0
        public var signalFrames = 0
        /// Every signal frame equals the source frame at one constant offset.
        public var bitExact = false
        public var blocks: [Block] = []
        public var minimumSNR: Double { blocks.map(\.snr).min() ?? 0 }
        /// The median SNR over blocks (for lossy codecs, whose worst block says little).
        public var medianSNR: Double { blocks.map(\.snr).sorted().dropFirst(blocks.count / 2).first ?? 0 }
        /// Largest level difference from the source over blocks, in dB.
        public var largestLevelError: Double { blocks.map { abs($0.levelDB) }.max() ?? 0 }
        /// Largest change of alignment between consecutive blocks beyond their nominal spacing
        /// (frames): a gap, skip or repeat shows as ≥ 1.
        public var largestJump: Double {
            zip(blocks, blocks.dropFirst()).map { abs(($1.sourcePosition - $0.sourcePosition) - Double($1.start - $0.start)) }.max() ?? 0
        }
        public var description: String {
            String(format: "silence %d, signal %d frames, bit-exact %@, %d blocks, SNR min %.1f / median %.1f dB, level error ≤ %.2f dB, largest jump %.3f frames",
                   leadingSilence, signalFrames, bitExact ? "yes" : "no", blocks.count, minimumSNR, medianSNR, largestLevelError, largestJump)
        }
    }

    /// Analyzes s16 stereo `output`. Blocks of `blockFrames` are checked every `blockFrames`;
    /// the first `skipFrames` of signal (start-up, fade-in) are left out of the SNR blocks.
    ///   - coarseSearch: when the counting channel is only approximate (a lossy codec), the
    ///     integer offset is searched within ±this many frames on the tone channel.
    public static func analyze(_ output: [UInt8], blockFrames: Int = 2400, skipFrames: Int = 4800, coarseSearch: Int = 0) -> Result {
        var result = Result()
        let frames = output.count / 4
        var left = [Int16](repeating: 0, count: frames), right = [Int16](repeating: 0, count: frames)
        output.withUnsafeBytes { raw in
            for i in 0..<frames {
                left[i] = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int16.self))
                right[i] = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4 + 2, as: Int16.self))
            }
        }
        guard let first = (0..<frames).first(where: { left[$0] != 0 || right[$0] != 0 }) else { return result }
        result.leadingSilence = first
        result.signalFrames = frames - first
        // Bit-exact: the left channel's count fixes the offset; every frame must match.
        let guess = Int(UInt16(bitPattern: left[min(frames - 1, first + 100)])) - (first + 100)
        let offset = nearestSourceOffset(guess: guess, right: right, at: first + 100)
        result.bitExact = (first..<frames).allSatisfy { i in
            let source = RampToneSignal.frame(i + offset)
            return left[i] == source.left && right[i] == source.right
        }
        var start = first + skipFrames
        var tracked: Int?
        while start + blockFrames <= frames {
            var coarse = nearestSourceOffset(guess: Int(UInt16(bitPattern: left[start])) - start, right: right, at: start)
            if coarseSearch > 0 {
                // Lossy: search around the previous block's offset (or the counter's hint) on the tone.
                let center = tracked ?? coarse
                let radius = tracked == nil ? coarseSearch : 4
                coarse = (center - radius...center + radius).min { a, b in
                    integerError(right: right, start: start, count: min(blockFrames, 960), offset: a)
                        < integerError(right: right, start: start, count: min(blockFrames, 960), offset: b)
                } ?? coarse
                tracked = coarse
            }
            let block = fit(right: right, start: start, count: blockFrames, coarseOffset: Double(coarse))
            result.blocks.append(block)
            start += blockFrames
        }
        return result
    }

    /// Source offsets are known modulo 65,536 from the counting channel. A player that started
    /// with its source (a file, a pipe) plays source frames close to its own index; a live source
    /// (line-in) may have run for seconds before, so every representative that keeps the source
    /// index non-negative is tried on the tone channel and the best match wins.
    private static func nearestSourceOffset(guess: Int, right: [Int16], at index: Int) -> Int {
        var offset = guess % 65_536
        if offset + index < 0 { offset += 65_536 * ((-(offset + index)) / 65_536 + 1) }
        let count = min(960, right.count - index)
        guard count > 0 else { return offset }
        var candidates = [offset]
        while candidates.last! + index - 65_536 >= 0 { candidates.append(candidates.last! - 65_536) }
        return candidates.min { integerError(right: right, start: index, count: count, offset: $0) < integerError(right: right, start: index, count: count, offset: $1) } ?? offset
    }

    /// Finds the source position (and the local playback rate) aligning the block best: a
    /// golden-section search for the offset, then Gauss–Newton on offset and rate together
    /// (a speaker that is correcting plays slightly fast or slow), and the SNR there.
    private static func fit(right: [Int16], start: Int, count: Int, coarseOffset: Double) -> Block {
        func residual(_ p0: Double, _ rate: Double) -> (error: Double, signal: Double) {
            var error = 0.0, signal = 0.0
            for k in 0..<count {
                let expected = tone(at: Double(start) + coarseOffset + p0 + Double(k) * (1 + rate))
                let difference = Double(right[start + k]) - expected
                error += difference * difference
                signal += expected * expected
            }
            return (error, signal)
        }
        var low = -2.0, high = 2.0
        let golden = (sqrt(5.0) - 1) / 2
        var a = high - golden * (high - low), b = low + golden * (high - low)
        var ea = residual(a, 0).error, eb = residual(b, 0).error
        for _ in 0..<30 {
            if ea < eb { high = b; b = a; eb = ea; a = high - golden * (high - low); ea = residual(a, 0).error }
            else { low = a; a = b; ea = eb; b = low + golden * (high - low); eb = residual(b, 0).error }
        }
        var p0 = (low + high) / 2, rate = 0.0
        for _ in 0..<6 {
            var jtj = (0.0, 0.0, 0.0), jtr = (0.0, 0.0)
            for k in 0..<count {
                let position = Double(start) + coarseOffset + p0 + Double(k) * (1 + rate)
                let r = Double(right[start + k]) - tone(at: position)
                let d0 = toneSlope(at: position), d1 = d0 * Double(k)
                jtj.0 += d0 * d0; jtj.1 += d0 * d1; jtj.2 += d1 * d1
                jtr.0 += d0 * r; jtr.1 += d1 * r
            }
            let det = jtj.0 * jtj.2 - jtj.1 * jtj.1
            guard det != 0 else { break }
            p0 += (jtj.2 * jtr.0 - jtj.1 * jtr.1) / det
            rate += (jtj.0 * jtr.1 - jtj.1 * jtr.0) / det
        }
        let (error, signal) = residual(p0, rate)
        let snr = error == 0 ? 200 : 10 * log10(signal / error)
        var power = 0.0
        for k in 0..<count { power += Double(right[start + k]) * Double(right[start + k]) }
        let level = signal > 0 && power > 0 ? 10 * log10(power / signal) : -200
        return Block(start: start, sourcePosition: Double(start) + coarseOffset + p0, snr: snr, levelDB: level)
    }

    private static func integerError(right: [Int16], start: Int, count: Int, offset: Int) -> Double {
        var error = 0.0
        for k in 0..<count {
            let difference = Double(right[start + k]) - tone(at: Double(start + k + offset))
            error += difference * difference
        }
        return error
    }

    private static func tone(at position: Double) -> Double {
        let t = position / 48_000
        return 8000 * sin(2 * .pi * 441.3 * t) + 6000 * sin(2 * .pi * 1234.7 * t + 1)
    }

    /// d(tone)/d(position).
    private static func toneSlope(at position: Double) -> Double {
        let t = position / 48_000
        return (8000 * 2 * .pi * 441.3 * cos(2 * .pi * 441.3 * t) + 6000 * 2 * .pi * 1234.7 * cos(2 * .pi * 1234.7 * t + 1)) / 48_000
    }

}
