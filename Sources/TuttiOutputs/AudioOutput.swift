import TuttiAudio
import TuttiTiming

/// Where a speaker's rendered audio goes: a sound card, a sound server, a pipe, a file or nowhere.
///
/// The speaker's real-time thread drives an output in a loop:
/// ```swift
/// let period = try output.waitForNextPeriod()   // blocks until the device wants a block
/// render(frames: period.frames, at: period.localNow + period.delay)
/// try output.write(samples)                     // interleaved s16le
/// ```
/// Outputs are used from one thread at a time (that loop's thread) and are not internally
/// synchronized. ``close()`` is called from the same thread once the loop has ended. Outputs
/// are opened with ``OutputFactory/open(_:format:clock:logger:)``.
///
/// Samples are 16-bit for now: whatever the stream's bits, ``format`` has `bits == 16` and
/// ``write(_:)`` takes `Int16` samples (the playout thread converts to s16 anyway).
public protocol AudioOutput: AnyObject {
    /// Rate and channels the device plays; `bits` is always 16, the samples ``write(_:)`` takes.
    var format: SampleFormat { get }

    /// Frames the device asks for per period; ``PeriodTiming/frames`` is this value.
    var periodFrames: Int { get }

    /// Blocks until the device wants its next block, then says when that block will be heard.
    ///
    /// Virtual devices (pipe, file, null) sleep until the block's first frame is due minus their
    /// lead; ALSA waits for room in the ring buffer; PulseAudio returns at once and lets the
    /// server pace inside ``write(_:)``.
    /// - Throws: ``OutputError`` when the device failed or the output is closed.
    func waitForNextPeriod() throws(OutputError) -> PeriodTiming

    /// Plays interleaved 16-bit samples (native `Int16`, written little-endian).
    ///
    /// `samples.count` must be a multiple of the channel count (else
    /// ``OutputError/invalidBuffer(_:)``); an empty buffer does nothing. Any number of frames is
    /// accepted, though the timing reported by ``waitForNextPeriod()`` assumes the loop writes
    /// about ``periodFrames`` each time. May block (pipes whose reader is slow, ALSA, PulseAudio).
    /// - Throws: ``OutputError/readerGone(target:)`` when a pipe's reader left,
    ///   ``OutputError/writeFailed(target:reason:)`` for a full disk or a failed device.
    func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError)

    /// How many times the device ran dry and restarted since it opened: ALSA underruns and
    /// suspends recovered from, a virtual device's re-anchorings; 0 where the device cannot
    /// tell (PulseAudio's simple API). For status reports; read on the audio thread.
    var underrunCount: Int { get }

    /// Stops the output: finalizes files (WAV header sizes), drains nothing, releases the device.
    /// Idempotent; after it, ``waitForNextPeriod()`` and ``write(_:)`` throw ``OutputError/closed(target:)``.
    func close()
}

/// When the next block written to an output will be heard.
public struct PeriodTiming: Equatable, Sendable {
    /// The output's clock reading (its ``TimeSource``) at which ``delay`` was measured.
    public var localNow: Nanos
    /// Nanoseconds from ``localNow`` until the first frame written next reaches the listener (the
    /// DAC). Negative when a virtual device is running late and that frame is already overdue.
    public var delay: Nanos
    /// Frames the device asks for now (the output's ``AudioOutput/periodFrames``).
    public var frames: Int

    /// Creates a timing report.
    public init(localNow: Nanos, delay: Nanos, frames: Int) {
        self.localNow = localNow
        self.delay = delay
        self.frames = frames
    }
}

extension SampleFormat {
    /// This format's rate and channels with 16-bit samples: what every output plays.
    var sixteenBit: SampleFormat { SampleFormat(rate: rate, bits: 16, channels: channels) }
}

/// Checks the rate and channels an output is asked to open with.
func validateOutputFormat(_ format: SampleFormat) throws(OutputError) {
    guard (1000...768_000).contains(format.rate) else {
        throw .unsupportedFormat("sample rate \(format.rate) is outside 1000...768000")
    }
    guard (1...8).contains(format.channels) else {
        throw .unsupportedFormat("\(format.channels) channels is outside 1...8")
    }
}

/// Checks that `samples` holds whole frames of `channels` samples each; returns the frame count.
func frameCount(of samples: UnsafeBufferPointer<Int16>, channels: Int) throws(OutputError) -> Int {
    guard samples.count % channels == 0 else {
        throw .invalidBuffer("\(samples.count) samples is not a whole number of \(channels)-channel frames")
    }
    return samples.count / channels
}
