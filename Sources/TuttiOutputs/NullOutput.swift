import Logging
import TuttiAudio
import TuttiTiming

/// Discards audio at the pace a sound card would take it (`null`): the speaker runs its whole
/// sync and playout path with nothing to hear, e.g. in benchmarks.
///
/// Paced like ``PipeOutput`` (see ``VirtualDevicePacer``). Used from the audio thread only.
public final class NullOutput: AudioOutput {
    public let format: SampleFormat
    private var device: PacedVirtualDevice
    private var isClosed = false
    /// Frames given to ``write(_:)`` so far.
    public private(set) var framesDiscarded: Int64 = 0

    public var periodFrames: Int { device.periodFrames }

    /// Times the virtual device fell more than its maximum lateness behind and re-anchored.
    public var underrunCount: Int { device.pacer.reanchorCount }

    /// Creates the output; fails only for an unplayable format.
    public convenience init(
        format: SampleFormat, clock: any TimeSource, timing: VirtualDeviceTiming = .standard,
        logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try self.init(format: format, clock: clock, timing: timing, sleep: systemSleeper, logger: logger)
    }

    /// As the public initializer, with the sleep injectable.
    init(
        format: SampleFormat, clock: any TimeSource, timing: VirtualDeviceTiming = .standard, sleep: @escaping Sleeper,
        logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try validateOutputFormat(format)
        self.format = format.sixteenBit
        var logger = logger
        logger[metadataKey: "output"] = "null"
        device = PacedVirtualDevice(rate: format.rate, timing: timing, clock: clock, sleep: sleep, logger: logger)
    }

    /// Sleeps until the next block is due minus the lead.
    public func waitForNextPeriod() throws(OutputError) -> PeriodTiming {
        guard !isClosed else { throw .closed(target: "null") }
        return device.waitForNextPeriod()
    }

    /// Counts the frames and drops them.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError) {
        guard !isClosed else { throw .closed(target: "null") }
        let frames = try frameCount(of: samples, channels: format.channels)
        framesDiscarded += Int64(frames)
        device.framesWritten(frames)
    }

    /// Marks the output closed. Idempotent.
    public func close() { isClosed = true }
}
