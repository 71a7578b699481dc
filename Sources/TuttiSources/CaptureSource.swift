import Logging
import TuttiAudio
import TuttiOutputs

/// Line-in: a capture device (an ALSA input, or a PulseAudio/PipeWire source — a turntable on
/// an aux input, a phone's Bluetooth audio, any sink's monitor) recorded in real time, 10 ms at a
/// time. The device's clock paces it, as a pipe's writer paces a pipe source; the stream reader
/// stamps what arrives.
///
/// A device or sound server that goes away is not an error: reads time out and the device is
/// opened again every second, logged once, until it answers.
final class CaptureSource: PCMSource {
    let format: SampleFormat
    private let label: String
    private let open: () throws(OutputError) -> any CaptureDevice
    private let logger: Logger
    private var device: (any CaptureDevice)?
    private var failing = false

    /// Opens the device at once, so that a wrong name fails when the stream is configured.
    init(label: String, format: SampleFormat, logger: Logger, open: @escaping () throws(OutputError) -> any CaptureDevice) throws(SourceError) {
        guard format.bits == 16 else { throw .badURI("line-in records 16-bit samples (sampleformat=RATE:16:CHANNELS)") }
        self.format = format
        self.label = label
        self.open = open
        self.logger = logger
        do {
            device = try open()
            logger.info("recording line-in from \(label)")
        } catch {
            throw .unavailable("line-in \(label): \(error)")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        let frameBytes = format.channels * 2
        let tenMilliseconds = format.rate / 100 * frameBytes
        let count = min(buffer.count / frameBytes * frameBytes, tenMilliseconds)
        guard count > 0 else { return .timedOut }
        if device == nil {
            do {
                device = try open()
                logger.notice("line-in \(label) is back")
                failing = false
            } catch {
                POSIX.sleep(nanoseconds: min(timeoutNanoseconds, 1_000_000_000))
                return .timedOut
            }
        }
        do {
            try device!.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
            return .bytes(count)
        } catch {
            if !failing { logger.warning("line-in \(label): \(error); trying again every second") }
            failing = true
            device?.close()
            device = nil
            return .timedOut
        }
    }

    func close() {
        device?.close()
        device = nil
    }
}
