/// A parsed output URI, as given to `tutti speaker --output`.
///
/// | URI | output |
/// |---|---|
/// | `pipe:stdout` (or `pipe:-`) | raw s16le to standard output, in real time |
/// | `pipe:PATH` | the same to a FIFO (which needs a reader) or a file |
/// | `file:PATH.wav` | a WAV file, written in real time, header finalized on exit |
/// | `null` | discarded, in real time |
/// | `alsa` / `alsa:DEVICE` | an ALSA device (`default` when none is named; `hw:0,0` keeps its colons) |
/// | `pulse` / `pulse:SINK` | PulseAudio or PipeWire's pulse server, default or named sink |
///
/// The scheme is case-insensitive; everything after the first `:` is taken as is.
public enum OutputURI: Equatable, Sendable, CustomStringConvertible {
    case pipe(PipeOutput.Destination)
    case wavFile(path: String)
    case null
    case alsa(device: String)
    case pulse(sink: String?)

    /// The forms accepted, for error messages and `--help`.
    public static let validForms = "pipe:stdout, pipe:PATH, file:PATH.wav, null, alsa[:DEVICE], pulse[:SINK]"

    /// Parses `spec`.
    ///
    /// - Throws: ``OutputError/badURI(_:)`` for an unknown scheme (listing ``validForms``), a
    ///   missing pipe or file path, a `file:` path not ending in `.wav`, or `null:` with a value.
    public init(parsing spec: String) throws(OutputError) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let scheme = parts[0].lowercased()
        let value = parts.count > 1 ? String(parts[1]) : nil
        switch scheme {
        case "pipe":
            guard let value, !value.isEmpty else { throw .badURI("'\(spec)' needs a destination: pipe:stdout or pipe:PATH") }
            self = .pipe(value == "stdout" || value == "-" ? .standardOutput : .path(value))
        case "file":
            guard let value, !value.isEmpty else { throw .badURI("'\(spec)' needs a path: file:PATH.wav") }
            guard value.lowercased().hasSuffix(".wav") else {
                throw .badURI("'\(spec)': file outputs write WAV, so the path must end in .wav (use pipe:PATH for raw PCM)")
            }
            self = .wavFile(path: value)
        case "null":
            guard value == nil || value == "" else { throw .badURI("'\(spec)': null takes no value") }
            self = .null
        case "alsa":
            self = .alsa(device: value.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
        case "pulse":
            self = .pulse(sink: value.flatMap { $0.isEmpty ? nil : $0 })
        default:
            throw .badURI("unknown output '\(spec)'; valid outputs are \(Self.validForms)")
        }
    }

    /// The URI in canonical form (`pipe:stdout`, `alsa:default`, `pulse`, ...).
    public var description: String {
        switch self {
        case .pipe(.standardOutput): "pipe:stdout"
        case .pipe(.path(let path)): "pipe:\(path)"
        case .wavFile(let path): "file:\(path)"
        case .null: "null"
        case .alsa(let device): "alsa:\(device)"
        case .pulse(let sink): sink.map { "pulse:\($0)" } ?? "pulse"
        }
    }
}
