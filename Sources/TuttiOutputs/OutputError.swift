/// Why an output could not be opened or could not play. Every case reads as a sentence a user
/// can act on (``description``): it names the device, file or package involved.
public enum OutputError: Error, Equatable, CustomStringConvertible {
    /// The output URI is malformed or names an unknown scheme; the string says which and lists valid ones.
    case badURI(String)
    /// The sample format cannot be played (rate or channels out of range).
    case unsupportedFormat(String)
    /// A shared library loaded at run time is not installed; `package` is the Debian package that has it.
    case libraryMissing(name: String, package: String)
    /// The library is there but lacks a function Tutti needs (too old, or not the real library).
    case librarySymbolMissing(library: String, symbol: String)
    /// The sound card or ALSA device cannot be opened or configured.
    case deviceUnavailable(device: String, reason: String)
    /// No PulseAudio (or PipeWire pulse) server accepted the connection, or the sink is unknown.
    case soundServerUnavailable(reason: String)
    /// A file or FIFO cannot be opened for writing.
    case openFailed(target: String, reason: String)
    /// Writing failed: disk full, I/O error, or the device stopped working.
    case writeFailed(target: String, reason: String)
    /// The process reading a pipe went away (EPIPE).
    case readerGone(target: String)
    /// ``AudioOutput/write(_:)`` got samples that are not whole frames.
    case invalidBuffer(String)
    /// The output was used after ``AudioOutput/close()``.
    case closed(target: String)

    public var description: String {
        switch self {
        case .badURI(let why):
            "bad output URI: \(why)"
        case .unsupportedFormat(let why):
            "unsupported output format: \(why)"
        case .libraryMissing(let name, let package):
            "\(name) is not installed; install the Debian package \(package) (apt-get install \(package))"
        case .librarySymbolMissing(let library, let symbol):
            "\(library) has no function \(symbol); it is too old or not the real library"
        case .deviceUnavailable(let device, let reason):
            "audio device '\(device)' is unavailable: \(reason)"
        case .soundServerUnavailable(let reason):
            "no PulseAudio server: \(reason)"
        case .openFailed(let target, let reason):
            "cannot open \(target) for writing: \(reason)"
        case .writeFailed(let target, let reason):
            "writing to \(target) failed: \(reason)"
        case .readerGone(let target):
            "the reader of \(target) went away (broken pipe)"
        case .invalidBuffer(let why):
            "invalid sample buffer: \(why)"
        case .closed(let target):
            "output \(target) is closed"
        }
    }
}
