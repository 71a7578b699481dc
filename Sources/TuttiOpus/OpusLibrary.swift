#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether libopus can be used on this machine, for the server's codec choice and for tests.
public enum OpusLibrary {
    /// True when libopus loaded with every function Tutti calls (loaded once per process).
    public static var isAvailable: Bool { (try? OpusFunctions.shared.get()) != nil }

    /// Why libopus cannot be used, or nil when it can.
    public static var loadError: OpusError? {
        if case .failure(let error) = OpusFunctions.shared { error } else { nil }
    }

    /// libopus's own version text (`libopus 1.4`), or nil without the library.
    public static var version: String? {
        guard let functions = try? OpusFunctions.shared.get(), let text = functions.versionString() else { return nil }
        return String(cString: text)
    }
}

/// The libopus functions Tutti calls, looked up with `dlsym` so the build needs no Opus headers.
///
/// Types follow `opus.h`: `OpusEncoder *` / `OpusDecoder *` are opaque pointers, `opus_int32`
/// and `int` are `Int32`, `opus_int16` is `Int16`. `@unchecked Sendable`: only immutable C
/// function pointers, callable from any thread (each codec state is used by one thread).
///
/// ## The variadic `opus_encoder_ctl`
/// Swift cannot call a C variadic function through a pointer, so the symbol is called through
/// fixed `@convention(c)` types: `(state, Int32 request, Int32 value)` and
/// `(state, Int32 request, Int32 *out)`. That is sound only where variadic arguments travel in
/// the same registers as named ones: the x86-64 System V ABI (Linux, Intel macOS; `%al` is
/// only an upper bound of vector registers used, and the callee reads no vector register for
/// integer arguments) and Linux AArch64 (AAPCS64). Apple's arm64 ABI puts variadic arguments on
/// the stack, so there ``ctl`` is nil and the encoder throws ``OpusError/unsupportedPlatform(_:)``;
/// the decoder needs no ctl and works everywhere.
struct OpusFunctions: @unchecked Sendable {
    typealias EncoderCreate = @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> OpaquePointer?
    typealias Encode = @convention(c) (OpaquePointer, UnsafePointer<Int16>, Int32, UnsafeMutablePointer<UInt8>, Int32) -> Int32
    typealias CtlSet = @convention(c) (OpaquePointer, Int32, Int32) -> Int32
    typealias CtlGet = @convention(c) (OpaquePointer, Int32, UnsafeMutablePointer<Int32>) -> Int32
    typealias DecoderCreate = @convention(c) (Int32, Int32, UnsafeMutablePointer<Int32>?) -> OpaquePointer?
    typealias DecodeFloat = @convention(c) (OpaquePointer, UnsafePointer<UInt8>?, Int32, UnsafeMutablePointer<Float>, Int32, Int32) -> Int32
    typealias Destroy = @convention(c) (OpaquePointer) -> Void
    typealias ErrorText = @convention(c) (Int32) -> UnsafePointer<CChar>?
    typealias VersionText = @convention(c) () -> UnsafePointer<CChar>?

    #if canImport(Darwin)
    static let libraryName = "libopus.0.dylib"
    #else
    static let libraryName = "libopus.so.0"
    #endif
    static let packageName = "libopus0"

    // Constants from opus_defines.h.
    static let applicationAudio: Int32 = 2049             // OPUS_APPLICATION_AUDIO
    static let applicationRestrictedLowDelay: Int32 = 2051 // OPUS_APPLICATION_RESTRICTED_LOWDELAY
    static let setBitrateRequest: Int32 = 4002            // OPUS_SET_BITRATE_REQUEST
    static let setComplexityRequest: Int32 = 4010         // OPUS_SET_COMPLEXITY_REQUEST
    static let getLookaheadRequest: Int32 = 4027          // OPUS_GET_LOOKAHEAD_REQUEST
    static let resetState: Int32 = 4028                   // OPUS_RESET_STATE (takes no argument)
    static let ok: Int32 = 0                              // OPUS_OK

    let encoderCreate: EncoderCreate
    let encode: Encode
    let encoderDestroy: Destroy
    /// `opus_encoder_ctl` as (set, get), or nil where the call cannot be made (see above).
    let ctl: (set: CtlSet, get: CtlGet)?
    let decoderCreate: DecoderCreate
    let decodeFloat: DecodeFloat
    let decoderDestroy: Destroy
    let errorText: ErrorText
    let versionString: VersionText

    /// Loads the functions from `name` (tests pass a name that does not exist). Never closed.
    /// - Throws: ``OpusError/libraryMissing(name:package:)`` or ``OpusError/symbolMissing(library:symbol:)``.
    init(name: String = libraryName) throws(OpusError) {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw .libraryMissing(name: name, package: Self.packageName)
        }
        func function<T>(_ symbol: String, as type: T.Type) throws(OpusError) -> T {
            guard let address = dlsym(handle, symbol) else { throw .symbolMissing(library: name, symbol: symbol) }
            return unsafeBitCast(address, to: type)
        }
        encoderCreate = try function("opus_encoder_create", as: EncoderCreate.self)
        encode = try function("opus_encode", as: Encode.self)
        encoderDestroy = try function("opus_encoder_destroy", as: Destroy.self)
        #if arch(x86_64) || (arch(arm64) && os(Linux))
        ctl = (try function("opus_encoder_ctl", as: CtlSet.self), try function("opus_encoder_ctl", as: CtlGet.self))
        #else
        ctl = nil
        #endif
        decoderCreate = try function("opus_decoder_create", as: DecoderCreate.self)
        decodeFloat = try function("opus_decode_float", as: DecodeFloat.self)
        decoderDestroy = try function("opus_decoder_destroy", as: Destroy.self)
        errorText = try function("opus_strerror", as: ErrorText.self)
        versionString = try function("opus_get_version_string", as: VersionText.self)
    }

    /// The library, loaded once per process (a failure is remembered too).
    static let shared: Result<OpusFunctions, OpusError> = Result { () throws(OpusError) in try OpusFunctions() }

    /// `opus_strerror` of a negative libopus return code, with the code.
    func describe(_ code: Int32) -> String {
        guard let text = errorText(code) else { return "error \(code)" }
        return "\(String(cString: text)) (\(code))"
    }
}
