#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Writes raw interleaved s16le frames to standard output, a FIFO or a file, in real time
/// (`pipe:stdout`, `pipe:PATH`): exactly what a sound card would have been given.
///
/// The device is virtual (see ``VirtualDevicePacer``): frame *k* is due at `start + k/rate` on
/// the output's clock, and each block of ``periodFrames`` (10 ms by default) is written at the
/// moment its first frame is due minus the lead (5 ms by default), so a reader receives every
/// block a constant lead before it "plays" (rendered ``VirtualDeviceTiming/renderAhead`` — one
/// period — before that, right after the previous write, so the render's duration does not move
/// the write). The delay reported is the lead plus
/// the render-ahead, less any lateness of the writing thread. Falling more than 100 ms behind re-anchors the timeline instead of
/// bursting (logged).
///
/// - Standard output is written as is and never closed by ``close()``.
/// - A FIFO must already have a reader when the output opens (else
///   ``OutputError/openFailed(target:reason:)`` says to start it first); opening never blocks.
/// - Any other path is created or truncated (mode 0644), e.g. `/dev/null` or a `.raw` file.
/// - A reader that leaves makes ``write(_:)`` throw ``OutputError/readerGone(target:)``; SIGPIPE
///   is ignored process-wide so it can never kill the speaker (see ``SignalSetup``).
///
/// Used from the audio thread only.
public final class PipeOutput: AudioOutput {
    /// Where the bytes go.
    public enum Destination: Equatable, Sendable, CustomStringConvertible {
        case standardOutput
        case path(String)

        public var description: String {
            switch self {
            case .standardOutput: "standard output"
            case .path(let path): path
            }
        }
    }

    public let format: SampleFormat
    public let destination: Destination
    private var sink: FileDescriptorSink
    private var device: PacedVirtualDevice
    private var conversionBuffer: [Int16] = []

    public var periodFrames: Int { device.periodFrames }

    /// Times the virtual device fell more than its maximum lateness behind and re-anchored.
    public var underrunCount: Int { device.pacer.reanchorCount }

    /// Opens `destination` for `format` (played as 16-bit; see ``AudioOutput/format``).
    ///
    /// - Parameters:
    ///   - clock: the clock the virtual DAC runs on (a `SkewedClock` for simulated drift).
    ///   - timing: block length, lead and re-anchor threshold.
    /// - Throws: ``OutputError/openFailed(target:reason:)`` when the path cannot be opened or a
    ///   FIFO has no reader; ``OutputError/unsupportedFormat(_:)``.
    public convenience init(
        destination: Destination, format: SampleFormat, clock: any TimeSource,
        timing: VirtualDeviceTiming = .pipe, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try self.init(destination: destination, format: format, clock: clock, timing: timing, sleep: systemSleeper, logger: logger)
    }

    /// As the public initializer, with the sleep injectable so tests can move a manual clock.
    init(
        destination: Destination, format: SampleFormat, clock: any TimeSource,
        timing: VirtualDeviceTiming = .pipe, sleep: @escaping Sleeper, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try validateOutputFormat(format)
        self.format = format.sixteenBit
        self.destination = destination
        var logger = logger
        logger[metadataKey: "output"] = "pipe:\(destination)"
        switch destination {
        case .standardOutput:
            sink = FileDescriptorSink(fd: STDOUT_FILENO, target: "standard output", ownsDescriptor: false)
        case .path(let path):
            sink = FileDescriptorSink(fd: try Self.openForWriting(path), target: path, ownsDescriptor: true)
        }
        device = PacedVirtualDevice(rate: format.rate, timing: timing, clock: clock, sleep: sleep, logger: logger)
    }

    deinit { sink.close() }

    /// Opens a FIFO (without blocking, so it needs a reader) or creates/truncates a file.
    private static func openForWriting(_ path: String) throws(OutputError) -> Int32 {
        var info = stat()
        let isFIFO = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
        if isFIFO {
            let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                if code == ENXIO {
                    throw .openFailed(target: path, reason: "no process is reading the FIFO; start its reader first")
                }
                throw .openFailed(target: path, reason: describeErrno(code))
            }
            // Writes block from now on: a slow reader paces us rather than failing them.
            let flags = fcntl(fd, F_GETFL)
            if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
            return fd
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .openFailed(target: path, reason: describeErrno(errno)) }
        return fd
    }

    /// Sleeps until the next block is due minus the lead; see ``AudioOutput/waitForNextPeriod()``.
    public func waitForNextPeriod() throws(OutputError) -> PeriodTiming {
        guard sink.isOpen else { throw .closed(target: sink.target) }
        return device.waitForNextPeriod()
    }

    /// Writes the samples as s16le; blocks while the pipe is full.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError) {
        guard sink.isOpen else { throw .closed(target: sink.target) }
        let frames = try frameCount(of: samples, channels: format.channels)
        guard frames > 0 else { return }
        device.waitForWriteTime()
        try writeLittleEndian(samples, to: sink, scratch: &conversionBuffer)
        device.framesWritten(frames)
    }

    /// Stops writing; closes the descriptor unless it is standard output. Idempotent.
    public func close() { sink.close() }
}

/// Writes `samples` to `sink` as little-endian bytes (a byte swap through `scratch` on
/// big-endian hosts, none on little-endian ones).
func writeLittleEndian(
    _ samples: UnsafeBufferPointer<Int16>, to sink: FileDescriptorSink, scratch: inout [Int16]
) throws(OutputError) {
    #if _endian(little)
    try sink.writeAll(UnsafeRawBufferPointer(samples))
    #else
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: samples.lazy.map { $0.littleEndian })
    try scratch.withUnsafeBytes { raw throws(OutputError) in try sink.writeAll(raw) }
    #endif
}
