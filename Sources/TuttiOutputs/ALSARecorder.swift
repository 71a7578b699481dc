import TuttiAudio

/// What a line-in source reads from: a capture stream that fills a buffer of whole frames in
/// real time (blocking until it is full), and can be closed.
public protocol CaptureDevice: AnyObject {
    var format: SampleFormat { get }
    /// Fills `buffer` (whole s16le frames), blocking until it is full.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OutputError)
    func close()
}

/// An ALSA capture PCM through libasound, loaded at run time: what an `alsa:///DEVICE` line-in
/// source reads (`hw:1,0` for a sound card's input, `plughw:…` to let ALSA convert, `default`,
/// or a plugin such as `pulse:SOURCE`). Interleaved S16_LE at the given rate and channels with
/// ALSA's conversion allowed and a ring buffer of about 100 ms; an overrun (the reader came too
/// late) is recovered from and counted, the frames it lost are gone.
public final class ALSARecorder: CaptureDevice, @unchecked Sendable {
    public let format: SampleFormat
    public let device: String
    /// Overruns recovered from since opening.
    public private(set) var overrunCount = 0
    private let library: ALSALibrary
    private var pcm: OpaquePointer?

    /// - Throws: ``OutputError/libraryMissing(name:package:)`` without libasound,
    ///   ``OutputError/deviceUnavailable(device:reason:)`` when the device is missing, busy or
    ///   refuses the format.
    public init(device: String, format: SampleFormat) throws(OutputError) {
        library = try ALSALibrary.shared.get()
        self.device = device
        self.format = SampleFormat(rate: format.rate, bits: 16, channels: format.channels)
        var handle: OpaquePointer?
        let opened = library.open(&handle, device, ALSALibrary.streamCapture, 0)
        guard opened >= 0, let handle else {
            throw .deviceUnavailable(device: device, reason: "cannot open for capture: \(library.describe(opened)); list devices with `arecord -L`")
        }
        let configured = library.setParams(
            handle, ALSALibrary.formatS16LE, ALSALibrary.accessRWInterleaved, UInt32(format.channels), UInt32(format.rate), 1, 100_000)
        guard configured >= 0 else {
            _ = library.close(handle)
            throw .deviceUnavailable(device: device, reason: "refuses to record S16_LE \(format.rate) Hz \(format.channels) channels: \(library.describe(configured))")
        }
        pcm = handle
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(OutputError) {
        guard let pcm, let base = buffer.baseAddress else { throw .closed(target: "alsa:\(device)") }
        let frameBytes = format.channels * 2
        var done = 0
        while done < buffer.count / frameBytes {
            let got = library.readInterleaved(pcm, base + done * frameBytes, UInt(buffer.count / frameBytes - done))
            if got >= 0 {
                done += got
                continue
            }
            // An overrun (-EPIPE) or a suspend (-ESTRPIPE) is recovered; anything else (the device
            // was unplugged: -ENODEV) ends the stream.
            let recovered = library.recover(pcm, Int32(got), 1)
            guard recovered >= 0 else {
                throw .deviceUnavailable(device: device, reason: "recording failed: \(library.describe(Int32(got)))")
            }
            overrunCount += 1
        }
    }

    public func close() {
        if let pcm { _ = library.close(pcm) }
        pcm = nil
    }

    deinit { close() }
}
