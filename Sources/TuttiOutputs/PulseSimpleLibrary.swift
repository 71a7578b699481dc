/// The libpulse-simple functions ``PulseOutput`` calls, looked up with `dlsym` from
/// `libpulse-simple.so.0` (Debian package `libpulse0`) so the build needs no PulseAudio headers.
///
/// Types follow `pulse/simple.h`: `pa_simple *` is opaque, enums are C `int`, `size_t` is `Int`,
/// `pa_usec_t` is `UInt64`. The sample spec and buffer attributes are passed as raw memory laid
/// out as C lays out those structs (see ``PulseOutput``). `pa_strerror` lives in libpulse, which
/// libpulse-simple depends on, so `dlsym` on libpulse-simple's handle finds it too.
/// `@unchecked Sendable`: only immutable C function pointers. Public for the capture source
/// (`pulse://` line-in in TuttiSources), which records through the same library.
public struct PulseSimpleLibrary: @unchecked Sendable {
    typealias New = @convention(c) (
        UnsafePointer<CChar>?, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>,
        UnsafeRawPointer, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeMutablePointer<Int32>?
    ) -> OpaquePointer?
    typealias Write = @convention(c) (OpaquePointer, UnsafeRawPointer, Int, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Latency = @convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>?) -> UInt64
    typealias Free = @convention(c) (OpaquePointer) -> Void
    typealias ErrorText = @convention(c) (Int32) -> UnsafePointer<CChar>?
    public typealias Read = @convention(c) (OpaquePointer, UnsafeMutableRawPointer, Int, UnsafeMutablePointer<Int32>?) -> Int32

    static let libraryName = "libpulse-simple.so.0"
    static let packageName = "libpulse0"

    // Constants from pulse/def.h and pulse/sample.h.
    static let streamPlayback: Int32 = 1   // PA_STREAM_PLAYBACK
    static let streamRecord: Int32 = 2     // PA_STREAM_RECORD
    static let sampleS16LE: Int32 = 3      // PA_SAMPLE_S16LE
    static let errorNoEntity: Int32 = 5    // PA_ERR_NOENTITY: no such sink
    /// `pa_simple_get_latency`'s failure value, `(pa_usec_t) -1`.
    static let invalidLatency = UInt64.max

    let new: New
    let write: Write
    let latency: Latency
    let free: Free
    let errorText: ErrorText
    /// `pa_simple_read`, for recording.
    let read: Read

    /// Loads the functions from `name` (tests pass a name that does not exist).
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` or ``OutputError/librarySymbolMissing(library:symbol:)``.
    init(name: String = libraryName) throws(OutputError) {
        let library = try DynamicLibrary(name: name, package: Self.packageName)
        new = try library.function("pa_simple_new", as: New.self)
        write = try library.function("pa_simple_write", as: Write.self)
        latency = try library.function("pa_simple_get_latency", as: Latency.self)
        free = try library.function("pa_simple_free", as: Free.self)
        errorText = try library.function("pa_strerror", as: ErrorText.self)
        read = try library.function("pa_simple_read", as: Read.self)
    }

    /// The library, loaded once per process (a failure is remembered too).
    public static let shared: Result<PulseSimpleLibrary, OutputError> = Result { () throws(OutputError) in try PulseSimpleLibrary() }

    /// `pa_strerror` of a PulseAudio error code.
    func describe(_ code: Int32) -> String {
        guard let text = errorText(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
