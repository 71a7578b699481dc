import TuttiAudio

/// Why an Opus encoder or decoder could not be made, or libopus refused a call.
///
/// Thrown only when an Opus stream is created: without libopus every other codec and the rest
/// of Tutti keep working. Each case names what was wrong so one log line is enough.
public enum OpusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `dlopen` could not load the library; `package` is the Debian package that installs it.
    case libraryMissing(name: String, package: String)
    /// The library loaded but lacks a function Tutti calls (a broken or foreign build).
    case symbolMissing(library: String, symbol: String)
    /// The PCM format is not one this codec takes (the server must resample or refuse the stream).
    case unsupportedFormat(String)
    /// An option is out of range (bitrate, complexity).
    case invalidParameter(String)
    /// The encoder's variadic `opus_encoder_ctl` cannot be called safely on this platform.
    case unsupportedPlatform(String)
    /// libopus returned an error code; the text is `opus_strerror`'s with the code.
    case codecFailure(String)

    public var description: String {
        switch self {
        case .libraryMissing(let name, let package):
            "\(name) could not be loaded; Opus needs it (apt-get install \(package))"
        case .symbolMissing(let library, let symbol): "\(library) has no function \(symbol)"
        case .unsupportedFormat(let why): "Opus cannot encode this format: \(why)"
        case .invalidParameter(let why): "invalid Opus parameter: \(why)"
        case .unsupportedPlatform(let why): "Opus encoding is not supported here: \(why)"
        case .codecFailure(let why): "libopus failed: \(why)"
        }
    }

    /// The same problem as a ``DecoderError`` for the speaker's decoder factory.
    ///
    /// A missing or broken library becomes ``DecoderError/libraryUnavailable(codec:reason:)`` whose text keeps
    /// the package name; anything else about the header becomes ``DecoderError/badHeader(_:)``.
    var asDecoderError: DecoderError {
        switch self {
        case .libraryMissing, .symbolMissing, .unsupportedPlatform: .libraryUnavailable(codec: "opus", reason: description)
        case .unsupportedFormat, .invalidParameter, .codecFailure: .badHeader(description)
        }
    }
}
