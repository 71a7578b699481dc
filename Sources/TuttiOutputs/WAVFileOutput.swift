#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Records what the speaker plays into a 16-bit PCM WAV file, in real time (`file:PATH.wav`).
///
/// Paced like ``PipeOutput`` (see ``VirtualDevicePacer``), so the file holds exactly what a sound
/// card would have played, gaps and corrections included. The file starts with
/// `WAVHeader.streamingPlaceholder(for:)` (sizes unknown); the header is rewritten with the true
/// sizes every ``headerRefreshFrames`` frames (one second of audio), so a crash leaves a file
/// whose header covers all but the last second, and finally on ``close()``.
///
/// An existing file is truncated. A path that cannot be created and a full disk are
/// ``OutputError/openFailed(target:reason:)`` and ``OutputError/writeFailed(target:reason:)``
/// naming the path and the system's reason. Data beyond 4 GiB is written, but the header then
/// keeps its "unknown size" values (WAV sizes are 32-bit). Used from the audio thread only.
public final class WAVFileOutput: AudioOutput {
    public let format: SampleFormat
    /// The file's path.
    public let path: String
    /// Frames between header rewrites: one second of audio.
    public let headerRefreshFrames: Int
    private var sink: FileDescriptorSink
    private var device: PacedVirtualDevice
    private let logger: Logger
    private var conversionBuffer: [Int16] = []
    /// Data bytes written after the header.
    public private(set) var dataBytesWritten: UInt64 = 0
    private var framesSinceHeaderRefresh = 0

    public var periodFrames: Int { device.periodFrames }

    /// Times the virtual device fell more than its maximum lateness behind and re-anchored.
    public var underrunCount: Int { device.pacer.reanchorCount }

    /// Creates (or truncates) the file at `path` and writes the placeholder header.
    ///
    /// - Throws: ``OutputError/openFailed(target:reason:)`` when the file cannot be created,
    ///   ``OutputError/writeFailed(target:reason:)`` when even the header cannot be written
    ///   (disk full), ``OutputError/unsupportedFormat(_:)``.
    public convenience init(
        path: String, format: SampleFormat, clock: any TimeSource, timing: VirtualDeviceTiming = .standard,
        logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try self.init(path: path, format: format, clock: clock, timing: timing, sleep: systemSleeper, logger: logger)
    }

    /// As the public initializer, with the sleep injectable.
    init(
        path: String, format: SampleFormat, clock: any TimeSource, timing: VirtualDeviceTiming = .standard,
        sleep: @escaping Sleeper, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try validateOutputFormat(format)
        self.format = format.sixteenBit
        self.path = path
        self.headerRefreshFrames = format.rate
        var logger = logger
        logger[metadataKey: "output"] = "file:\(path)"
        self.logger = logger
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .openFailed(target: path, reason: describeErrno(errno)) }
        sink = FileDescriptorSink(fd: fd, target: path, ownsDescriptor: true)
        device = PacedVirtualDevice(rate: format.rate, timing: timing, clock: clock, sleep: sleep, logger: logger)
        do throws(OutputError) {
            try sink.writeAll(WAVHeader.streamingPlaceholder(for: self.format), at: 0)
            // pwrite leaves the file position at 0: data goes after the header.
            guard lseek(fd, off_t(WAVHeader.canonicalSize), SEEK_SET) >= 0 else {
                throw .writeFailed(target: path, reason: describeErrno(errno))
            }
        } catch {
            sink.close()
            throw error
        }
    }

    deinit { close() }

    /// Sleeps until the next block is due minus the lead.
    public func waitForNextPeriod() throws(OutputError) -> PeriodTiming {
        guard sink.isOpen else { throw .closed(target: path) }
        return device.waitForNextPeriod()
    }

    /// Appends the samples; rewrites the header once a second of audio has accumulated.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError) {
        guard sink.isOpen else { throw .closed(target: path) }
        let frames = try frameCount(of: samples, channels: format.channels)
        guard frames > 0 else { return }
        try writeLittleEndian(samples, to: sink, scratch: &conversionBuffer)
        dataBytesWritten += UInt64(samples.count * 2)
        device.framesWritten(frames)
        framesSinceHeaderRefresh += frames
        if framesSinceHeaderRefresh >= headerRefreshFrames {
            framesSinceHeaderRefresh = 0
            try rewriteHeader()
        }
    }

    /// Writes the header with the sizes written so far.
    private func rewriteHeader() throws(OutputError) {
        try sink.writeAll(WAVHeader.canonicalBytes(for: format, dataSize: dataBytesWritten), at: 0)
    }

    /// Finalizes the header sizes and closes the file. Idempotent; a failure to finalize
    /// (disk gone) is logged, as close cannot throw.
    public func close() {
        guard sink.isOpen else { return }
        do {
            try rewriteHeader()
        } catch {
            logger.error("cannot finalize WAV header: \(error)")
        }
        sink.close()
    }
}
