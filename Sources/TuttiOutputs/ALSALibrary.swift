/// The few libasound functions ``ALSAOutput`` and ``ALSARecorder`` call, looked up with `dlsym` from
/// `libasound.so.2` (Debian package `libasound2`) so the build needs no ALSA headers.
///
/// Types follow `alsa/pcm.h`: `snd_pcm_t *` is an opaque pointer, `snd_pcm_uframes_t` is
/// `unsigned long` (`UInt`), `snd_pcm_sframes_t` is `long` (`Int`), enums are C `int`.
/// `@unchecked Sendable`: only immutable C function pointers, callable from any thread.
struct ALSALibrary: @unchecked Sendable {
    typealias Open = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, Int32, Int32) -> Int32
    typealias SetParams = @convention(c) (OpaquePointer, Int32, Int32, UInt32, UInt32, Int32, UInt32) -> Int32
    typealias GetParams = @convention(c) (OpaquePointer, UnsafeMutablePointer<UInt>, UnsafeMutablePointer<UInt>) -> Int32
    typealias WriteInterleaved = @convention(c) (OpaquePointer, UnsafeRawPointer, UInt) -> Int
    typealias ReadInterleaved = @convention(c) (OpaquePointer, UnsafeMutableRawPointer, UInt) -> Int
    typealias Recover = @convention(c) (OpaquePointer, Int32, Int32) -> Int32
    typealias Wait = @convention(c) (OpaquePointer, Int32) -> Int32
    typealias AvailDelay = @convention(c) (OpaquePointer, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Int32
    typealias State = @convention(c) (OpaquePointer) -> Int32
    typealias Handle = @convention(c) (OpaquePointer) -> Int32
    typealias ErrorText = @convention(c) (Int32) -> UnsafePointer<CChar>?

    static let libraryName = "libasound.so.2"
    static let packageName = "libasound2"

    // Constants from alsa/pcm.h.
    static let streamPlayback: Int32 = 0        // SND_PCM_STREAM_PLAYBACK
    static let streamCapture: Int32 = 1         // SND_PCM_STREAM_CAPTURE
    static let formatS16LE: Int32 = 2           // SND_PCM_FORMAT_S16_LE
    static let accessRWInterleaved: Int32 = 3   // SND_PCM_ACCESS_RW_INTERLEAVED
    static let statePrepared: Int32 = 2         // SND_PCM_STATE_PREPARED

    let open: Open
    let setParams: SetParams
    let getParams: GetParams
    let writeInterleaved: WriteInterleaved
    let readInterleaved: ReadInterleaved
    let recover: Recover
    let wait: Wait
    let availDelay: AvailDelay
    let state: State
    let start: Handle
    let close: Handle
    let errorText: ErrorText

    /// Loads the functions from `name` (tests pass a name that does not exist).
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` or ``OutputError/librarySymbolMissing(library:symbol:)``.
    init(name: String = libraryName) throws(OutputError) {
        let library = try DynamicLibrary(name: name, package: Self.packageName)
        open = try library.function("snd_pcm_open", as: Open.self)
        setParams = try library.function("snd_pcm_set_params", as: SetParams.self)
        getParams = try library.function("snd_pcm_get_params", as: GetParams.self)
        writeInterleaved = try library.function("snd_pcm_writei", as: WriteInterleaved.self)
        readInterleaved = try library.function("snd_pcm_readi", as: ReadInterleaved.self)
        recover = try library.function("snd_pcm_recover", as: Recover.self)
        wait = try library.function("snd_pcm_wait", as: Wait.self)
        availDelay = try library.function("snd_pcm_avail_delay", as: AvailDelay.self)
        state = try library.function("snd_pcm_state", as: State.self)
        start = try library.function("snd_pcm_start", as: Handle.self)
        close = try library.function("snd_pcm_close", as: Handle.self)
        errorText = try library.function("snd_strerror", as: ErrorText.self)
    }

    /// The library, loaded once per process (a failure is remembered too).
    static let shared: Result<ALSALibrary, OutputError> = Result { () throws(OutputError) in try ALSALibrary() }

    /// `snd_strerror` of a negative ALSA return code.
    func describe(_ code: Int32) -> String {
        guard let text = errorText(code) else { return "error \(code)" }
        return "\(String(cString: text)) (\(code))"
    }
}
