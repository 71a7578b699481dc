import TuttiAudio

/// A PulseAudio (or PipeWire-pulse) record stream through libpulse-simple, loaded at run time:
/// what a `pulse://SOURCE` line-in source reads. s16le at the given rate and channels; reads
/// block until the bytes asked for are there (ask for ~10 ms at a time).
public final class PulseRecorder: CaptureDevice, @unchecked Sendable {
    public let format: SampleFormat
    private let library: PulseSimpleLibrary
    private var stream: OpaquePointer?

    /// Opens a record stream from `source` (nil: the default source; a sink's `NAME.monitor`
    /// records what that sink plays) on `server` (nil: the default, or `PULSE_SERVER`).
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` without libpulse-simple,
    ///   ``OutputError/soundServerUnavailable(reason:)`` when no server answers or the source is unknown.
    public init(source: String?, server: String?, format: SampleFormat) throws(OutputError) {
        library = try PulseSimpleLibrary.shared.get()
        self.format = SampleFormat(rate: format.rate, bits: 16, channels: format.channels)
        var sampleSpec = [UInt8](repeating: 0, count: 12)
        sampleSpec.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: PulseSimpleLibrary.sampleS16LE, toByteOffset: 0, as: Int32.self)
            raw.storeBytes(of: UInt32(format.rate), toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: UInt8(format.channels), toByteOffset: 8, as: UInt8.self)
        }
        // Fragments of 10 ms: what the server hands over at a time.
        let fragment = UInt32(format.rate / 100 * format.channels * 2)
        let bufferAttributes: [UInt32] = [UInt32.max, UInt32.max, UInt32.max, UInt32.max, fragment]
        var error: Int32 = 0
        let library = self.library
        let created = sampleSpec.withUnsafeBytes { spec in
            bufferAttributes.withUnsafeBytes { attributes in
                library.new(server, "Tutti", PulseSimpleLibrary.streamRecord, source, "Tutti line-in", spec.baseAddress!, nil, attributes.baseAddress!, &error)
            }
        }
        guard let created else {
            let why = library.describe(error)
            if error == PulseSimpleLibrary.errorNoEntity, let source {
                throw .soundServerUnavailable(reason: "no source named '\(source)' (\(why)); list sources with `pactl list short sources`")
            }
            throw .soundServerUnavailable(
                reason: "cannot connect\(server.map { " at \($0)" } ?? ""): \(why); start a sound server (Debian packages pulseaudio or pipewire-pulse)")
        }
        stream = created
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(OutputError) {
        guard let stream, let base = buffer.baseAddress else { throw .soundServerUnavailable(reason: "the record stream is closed") }
        var error: Int32 = 0
        guard library.read(stream, base, buffer.count, &error) >= 0 else {
            throw .soundServerUnavailable(reason: "recording failed: \(library.describe(error))")
        }
    }

    public func close() {
        if let stream { library.free(stream) }
        stream = nil
    }

    deinit { close() }
}
