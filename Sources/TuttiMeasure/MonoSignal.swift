/// One player's captured output as a mono signal (the mean of its channels, full scale ±1),
/// plus a copy decimated by ``decimation`` for the coarse alignment search.
///
/// The mono mix makes the measurement independent of channel layout changes that keep the
/// content (it does not suit a stereo pair, where each speaker plays only one side: the two
/// sides' content differs, and their correlation may fall under the acceptance threshold).
///
/// Edge cases: a trailing partial frame is dropped; a capture with no bytes gives an empty
/// signal, whose every window counts as missing.
struct MonoSignal: Sendable {
    /// Frames of the decimated copy per frame of ``samples``.
    static let decimation = 8

    /// One sample per frame.
    let samples: [Float]
    /// Boxcar-averaged groups of ``decimation`` samples (a crude but shared low-pass: both sides
    /// of a correlation see the same filter, so it costs no accuracy of the delay).
    let decimated: [Float]

    init(capture: PlayerCapture, format: CaptureFormat) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capture.byteCount)
        for read in capture.reads { bytes.append(contentsOf: read.bytes) }
        let channels = format.channels
        let frames = bytes.count / format.bytesPerFrame
        var samples = [Float](repeating: 0, count: frames)
        let scale = 1 / (32_768 * Float(channels))
        bytes.withUnsafeBufferPointer { raw in
            samples.withUnsafeMutableBufferPointer { out in
                var byte = 0
                for frame in 0..<frames {
                    var sum: Int32 = 0
                    for _ in 0..<channels {
                        sum += Int32(Int16(bitPattern: UInt16(raw[byte]) | UInt16(raw[byte + 1]) << 8))
                        byte += 2
                    }
                    out[frame] = Float(sum) * scale
                }
            }
        }
        self.init(samples: samples)
    }

    init(samples: [Float]) {
        self.samples = samples
        let step = Self.decimation
        var decimated = [Float](repeating: 0, count: samples.count / step)
        samples.withUnsafeBufferPointer { input in
            for i in decimated.indices {
                var sum: Float = 0
                for k in 0..<step { sum += input[i * step + k] }
                decimated[i] = sum / Float(step)
            }
        }
        self.decimated = decimated
    }

    var count: Int { samples.count }

    /// Root-mean-square level of `samples[start ..< start + length]`; 0 for an empty or
    /// out-of-range window.
    func rms(from start: Int, length: Int) -> Double {
        guard start >= 0, length > 0, start + length <= samples.count else { return 0 }
        return samples.withUnsafeBufferPointer { s in
            var sum: Double = 0
            for i in start..<(start + length) { sum += Double(s[i]) * Double(s[i]) }
            return (sum / Double(length)).squareRoot()
        }
    }

    /// The first frame whose magnitude exceeds `threshold`, or nil if the capture never does.
    func firstFrame(louderThan threshold: Float) -> Int? {
        samples.firstIndex { abs($0) > threshold }
    }
}
