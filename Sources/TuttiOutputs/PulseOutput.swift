import Logging
import TuttiAudio
import TuttiTiming

/// Plays through a PulseAudio server (`pulse` or `pulse:SINK`) with the libpulse-simple API.
///
/// PipeWire's `pipewire-pulse` speaks the same protocol, so this is also the way to PipeWire and,
/// through it, to Bluetooth speakers and headphones (pick the Bluetooth sink by name, from
/// `pactl list short sinks`). libpulse-simple is loaded at run time (see ``PulseSimpleLibrary``):
/// without it the error names the Debian package `libpulse0`; without a running server it names
/// `pulseaudio` and `pipewire-pulse`. The server is found the usual way (`PULSE_SERVER`,
/// `XDG_RUNTIME_DIR/pulse/native`) unless ``init(sink:server:format:clock:targetLatencyMicroseconds:logger:)``
/// is given one.
///
/// Timing: the stream asks for a target buffer of ``defaultTargetLatencyMicroseconds`` and
/// requests of one period (10 ms). ``waitForNextPeriod()`` does not block; it reports
/// `delay = pa_simple_get_latency` (everything queued in the server plus the sink's own
/// latency), and ``write(_:)`` blocks until the server has room, so the server paces the loop.
/// Measuring before the blocking write is still right: a frame's play time depends on what is
/// queued ahead of it, not on when the write returns. The server's clock, not a simulated
/// `--clock-drift-ppm`, sets the rate. Audio thread only.
public final class PulseOutput: AudioOutput {
    /// About 50 ms of server-side buffer.
    public static let defaultTargetLatencyMicroseconds = 50_000

    public let format: SampleFormat
    /// The sink played to, or nil for the server's default sink.
    public let sink: String?
    public let periodFrames: Int
    /// Always 0: the simple API does not report the server's underruns.
    public let underrunCount = 0
    private let library: PulseSimpleLibrary
    private var stream: OpaquePointer?
    private let clock: any TimeSource
    private let logger: Logger
    private var lastLatency: Nanos = 0

    /// Connects to the server and creates a playback stream.
    ///
    /// - Parameters:
    ///   - sink: a sink name, or nil for the default sink.
    ///   - server: a server address such as `unix:/run/user/1000/pulse/native`, or nil for the default.
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` without libpulse-simple,
    ///   ``OutputError/soundServerUnavailable(reason:)`` when no server answers or the sink is unknown.
    public convenience init(
        sink: String? = nil, server: String? = nil, format: SampleFormat, clock: any TimeSource,
        targetLatencyMicroseconds: Int = defaultTargetLatencyMicroseconds, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try self.init(library: try PulseSimpleLibrary.shared.get(), sink: sink, server: server, format: format,
                      clock: clock, targetLatencyMicroseconds: targetLatencyMicroseconds, logger: logger)
    }

    init(
        library: PulseSimpleLibrary, sink: String?, server: String?, format: SampleFormat, clock: any TimeSource,
        targetLatencyMicroseconds: Int, logger: Logger
    ) throws(OutputError) {
        try validateOutputFormat(format)
        self.format = format.sixteenBit
        self.sink = sink
        self.library = library
        self.clock = clock
        periodFrames = max(1, format.rate / 100)
        var logger = logger
        logger[metadataKey: "output"] = "pulse:\(sink ?? "default")"
        self.logger = logger

        // pa_sample_spec { int format; uint32_t rate; uint8_t channels; } — 12 bytes with padding.
        var sampleSpec = [UInt8](repeating: 0, count: 12)
        sampleSpec.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: PulseSimpleLibrary.sampleS16LE, toByteOffset: 0, as: Int32.self)
            raw.storeBytes(of: UInt32(format.rate), toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: UInt8(format.channels), toByteOffset: 8, as: UInt8.self)
        }
        // pa_buffer_attr { maxlength, tlength, prebuf, minreq, fragsize } in bytes; -1 = server default.
        let bytesPerSecond = format.rate * format.channels * 2
        let targetBytes = UInt32(clamping: bytesPerSecond * targetLatencyMicroseconds / 1_000_000)
        let requestBytes = UInt32(clamping: periodFrames * format.channels * 2)
        let bufferAttributes: [UInt32] = [UInt32.max, targetBytes, UInt32.max, requestBytes, UInt32.max]

        var error: Int32 = 0
        let created = sampleSpec.withUnsafeBytes { spec in
            bufferAttributes.withUnsafeBytes { attributes in
                library.new(server, "Tutti", PulseSimpleLibrary.streamPlayback, sink, "Tutti speaker",
                            spec.baseAddress!, nil, attributes.baseAddress!, &error)
            }
        }
        guard let created else {
            let why = library.describe(error)
            if error == PulseSimpleLibrary.errorNoEntity, let sink {
                throw .soundServerUnavailable(reason: "no sink named '\(sink)' (\(why)); list sinks with `pactl list short sinks`")
            }
            let location = server.map { " at \($0)" } ?? ""
            throw .soundServerUnavailable(
                reason: "cannot connect\(location): \(why); start a sound server (Debian packages pulseaudio or pipewire-pulse)")
        }
        stream = created
        logger.info("PulseAudio stream open", metadata: ["target_latency_us": "\(targetLatencyMicroseconds)"])
    }

    deinit { close() }

    /// Returns at once with the server's current latency as the delay (see the type's doc).
    ///
    /// When the server cannot tell the latency (rare), the last known value is reported.
    public func waitForNextPeriod() throws(OutputError) -> PeriodTiming {
        guard let stream else { throw .closed(target: "pulse:\(sink ?? "default")") }
        var error: Int32 = 0
        let microseconds = library.latency(stream, &error)
        let now = clock.now()
        if microseconds != PulseSimpleLibrary.invalidLatency {
            lastLatency = Nanos(clamping: microseconds) * 1000
        }
        return PeriodTiming(localNow: now, delay: lastLatency, frames: periodFrames)
    }

    /// Writes the samples; blocks until the server has room for them.
    /// - Throws: ``OutputError/writeFailed(target:reason:)`` when the connection broke.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError) {
        guard let stream else { throw .closed(target: "pulse:\(sink ?? "default")") }
        let frames = try frameCount(of: samples, channels: format.channels)
        guard frames > 0 else { return }
        var error: Int32 = 0
        guard library.write(stream, UnsafeRawPointer(samples.baseAddress!), samples.count * 2, &error) >= 0 else {
            throw .writeFailed(target: "pulse:\(sink ?? "default")", reason: library.describe(error))
        }
    }

    /// Frees the stream and the connection without draining. Idempotent.
    public func close() {
        guard let stream else { return }
        library.free(stream)
        self.stream = nil
    }
}
