#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio
import TuttiTiming

/// Plays through an ALSA PCM device (`alsa` or `alsa:DEVICE`, default device `default`):
/// `hw:0,0`, `plughw:1`, `default`, `dmix`, or any name from `aplay -L`.
///
/// libasound is loaded at run time (see ``ALSALibrary``), so a machine without it gets
/// ``OutputError/libraryMissing(name:package:)`` naming `libasound2`, and a device that cannot be
/// opened gets ``OutputError/deviceUnavailable(device:reason:)`` naming the device. The PCM is
/// opened blocking, interleaved S16_LE at the stream's rate and channels, with ALSA's resampling
/// allowed and a buffer of about ``defaultBufferMicroseconds``; the hardware then paces the loop.
///
/// Timing: ``waitForNextPeriod()`` waits until the ring buffer has room for a period, then
/// reports `delay = snd_pcm_avail_delay`'s delay (frames queued ahead of the next write, plus
/// what the driver adds) converted at the stream's rate. Underruns and suspends are recovered
/// with `snd_pcm_recover` and counted in ``underrunCount``. The hardware runs on its own
/// crystal: a simulated `--clock-drift-ppm` does not change its rate. Audio thread only.
public final class ALSAOutput: AudioOutput {
    /// About 50 ms of ring buffer: low latency, still safe against a busy scheduler.
    public static let defaultBufferMicroseconds: UInt32 = 50_000

    public let format: SampleFormat
    /// The ALSA device name.
    public let device: String
    /// The period ALSA chose; each ``waitForNextPeriod()`` asks for this many frames.
    public let periodFrames: Int
    /// The ring buffer size ALSA chose, in frames.
    public let bufferFrames: Int
    /// Underruns and suspends recovered from since opening.
    public private(set) var underrunCount = 0
    private let library: ALSALibrary
    private var pcm: OpaquePointer?
    private let clock: any TimeSource
    private let logger: Logger

    /// Opens and configures `device`.
    ///
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` without libasound,
    ///   ``OutputError/deviceUnavailable(device:reason:)`` when the device is missing, busy or
    ///   refuses the format, ``OutputError/unsupportedFormat(_:)``.
    public convenience init(
        device: String = "default", format: SampleFormat, clock: any TimeSource,
        bufferMicroseconds: UInt32 = defaultBufferMicroseconds, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) {
        try self.init(library: try ALSALibrary.shared.get(), device: device, format: format, clock: clock,
                      bufferMicroseconds: bufferMicroseconds, logger: logger)
    }

    init(
        library: ALSALibrary, device: String, format: SampleFormat, clock: any TimeSource,
        bufferMicroseconds: UInt32, logger: Logger
    ) throws(OutputError) {
        try validateOutputFormat(format)
        self.format = format.sixteenBit
        self.device = device
        self.library = library
        self.clock = clock
        var logger = logger
        logger[metadataKey: "output"] = "alsa:\(device)"
        self.logger = logger

        var handle: OpaquePointer?
        let opened = library.open(&handle, device, ALSALibrary.streamPlayback, 0)
        guard opened >= 0, let handle else {
            throw .deviceUnavailable(device: device, reason: "cannot open for playback: \(library.describe(opened)); list devices with `aplay -L`")
        }
        let configured = library.setParams(
            handle, ALSALibrary.formatS16LE, ALSALibrary.accessRWInterleaved, UInt32(format.channels),
            UInt32(format.rate), 1, bufferMicroseconds)
        guard configured >= 0 else {
            _ = library.close(handle)
            throw .deviceUnavailable(device: device, reason: "refuses S16_LE \(format.rate) Hz \(format.channels) channels: \(library.describe(configured))")
        }
        var buffer: UInt = 0
        var period: UInt = 0
        if library.getParams(handle, &buffer, &period) < 0 || period == 0 {
            period = UInt(max(1, format.rate / 100))
            buffer = period * 4
        }
        pcm = handle
        periodFrames = Int(period)
        bufferFrames = Int(buffer)
        logger.info("ALSA device open", metadata: ["period_frames": "\(period)", "buffer_frames": "\(buffer)"])
    }

    deinit { close() }

    /// Waits until a period fits in the ring buffer; returns the device's delay.
    ///
    /// A stream that is prepared but not running (the start threshold not reached) is started
    /// rather than waited on. Waits at most a second at a time; a device that stays stuck is
    /// ``OutputError/deviceUnavailable(device:reason:)``.
    public func waitForNextPeriod() throws(OutputError) -> PeriodTiming {
        guard let pcm else { throw .closed(target: "alsa:\(device)") }
        var stalls = 0
        while true {
            var avail = 0
            var delay = 0
            let result = library.availDelay(pcm, &avail, &delay)
            if result < 0 {
                try recover(pcm, from: result)
                continue
            }
            if avail >= periodFrames {
                let now = clock.now()
                return PeriodTiming(localNow: now, delay: format.nanoseconds(frames: max(0, delay)), frames: periodFrames)
            }
            if library.state(pcm) == ALSALibrary.statePrepared {
                _ = library.start(pcm)
                continue
            }
            let waited = library.wait(pcm, 1000)
            if waited < 0 {
                try recover(pcm, from: waited)
            } else if waited == 0 {
                stalls += 1
                if stalls >= 5 { throw .deviceUnavailable(device: device, reason: "no room in the buffer for 5 s; the device is stuck") }
            }
        }
    }

    /// Writes the samples with `snd_pcm_writei`, blocking while the ring buffer is full;
    /// recovers from underruns and retries.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(OutputError) {
        guard let pcm else { throw .closed(target: "alsa:\(device)") }
        let frames = try frameCount(of: samples, channels: format.channels)
        var done = 0
        while done < frames {
            let pointer = UnsafeRawPointer(samples.baseAddress! + done * format.channels)
            let written = library.writeInterleaved(pcm, pointer, UInt(frames - done))
            if written >= 0 {
                done += written
            } else {
                try recover(pcm, from: Int32(truncatingIfNeeded: written))
            }
        }
    }

    /// ESTRPIPE ("streams pipe error": the device was suspended), spelled out because only
    /// Linux's C library defines it.
    private static let errorSuspended: Int32 = 86

    /// `snd_pcm_recover` for an xrun (-EPIPE), a suspend (-ESTRPIPE) or a signal (-EINTR);
    /// anything else, or a failed recovery, is ``OutputError/writeFailed(target:reason:)``.
    private func recover(_ pcm: OpaquePointer, from code: Int32) throws(OutputError) {
        if code == -EPIPE || code == -Self.errorSuspended {
            underrunCount += 1
            logger.warning("ALSA underrun; recovering", metadata: ["underruns": "\(underrunCount)"])
        }
        let recovered = library.recover(pcm, code, 1)
        guard recovered >= 0 else {
            throw .writeFailed(target: "alsa:\(device)", reason: library.describe(code))
        }
    }

    /// Closes the PCM without draining (the last ~50 ms are dropped). Idempotent.
    public func close() {
        guard let pcm else { return }
        _ = library.close(pcm)
        self.pcm = nil
    }
}
