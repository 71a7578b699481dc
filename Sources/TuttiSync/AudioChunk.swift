import TuttiTiming

/// Decoded PCM for the jitter buffer: interleaved `Float` frames (±1.0 full scale) and the
/// server time of the first frame.
///
/// Float because the resampler computes in Float and because 16-bit wire samples convert to
/// Float and back bit-exactly (see ``init(serverTime:int16:channels:)`` and
/// ``AudioChunk/int16(from:)``); 24- and 32-bit sources keep 24 bits of precision. A chunk
/// made with ``init(serverTime:silentFrames:)`` has a length but no sample values: it reads as
/// silence and costs no memory, which lets long simulations run the real scheduler on
/// positions alone.
public struct AudioChunk: Sendable {
    /// Server time of the first frame (the WireChunk timestamp).
    public var serverTime: Nanos
    /// Interleaved samples, `frameCount × channels` of them, or empty for a silent chunk.
    public var samples: [Float]
    /// Frames in the chunk.
    public var frameCount: Int

    /// Creates a chunk from interleaved Float samples; a trailing partial frame is ignored.
    public init(serverTime: Nanos, samples: [Float], channels: Int) {
        self.serverTime = serverTime
        self.frameCount = samples.count / channels
        self.samples = samples.count % channels == 0 ? samples : Array(samples.prefix(frameCount * channels))
    }

    /// Creates a chunk from interleaved 16-bit samples, scaled by 1/32768.
    public init(serverTime: Nanos, int16 samples: [Int16], channels: Int) {
        self.init(serverTime: serverTime, samples: samples.map { Float($0) / 32768 }, channels: channels)
    }

    /// Creates a chunk of `silentFrames` frames without sample storage (reads as zeros).
    public init(serverTime: Nanos, silentFrames: Int) {
        self.serverTime = serverTime
        self.samples = []
        self.frameCount = silentFrames
    }

    /// Converts Float samples to 16-bit: × 32768, rounded to nearest, clipped to Int16's range.
    /// Inverse of ``init(serverTime:int16:channels:)`` on its output.
    public static func int16(from samples: UnsafeBufferPointer<Float>) -> [Int16] {
        samples.map { sample in
            let scaled = (sample * 32768).rounded()
            return Int16(max(-32768, min(32767, scaled.isNaN ? 0 : scaled)))
        }
    }
}
