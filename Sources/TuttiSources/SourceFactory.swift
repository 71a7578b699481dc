import Logging
import TuttiAudio
import TuttiOutputs

/// Opens the ``PCMSource`` a ``SourceURI`` describes.
public enum SourceFactory {
    /// Opens the source for `uri`.
    ///
    /// - Parameters:
    ///   - allowProcess: whether `process://` may start a program. Pass false for sources that
    ///     arrive over the network (the control API), so a remote caller cannot run commands.
    ///   - logger: receives the source's events (writer gone/back, restarts, connects).
    /// - Returns: the open source. Its ``PCMSource/format`` is the URI's format, except for a
    ///   `file://` URI without `sampleformat`, which plays in the file's own format.
    /// - Throws: ``SourceError/badURI(_:)`` for `process://` when `allowProcess` is false;
    ///   otherwise whatever the source's initializer throws (``SourceError/unavailable(_:)``,
    ///   ``SourceError/badContent(_:)``). The codec is not checked here.
    public static func open(_ uri: SourceURI, allowProcess: Bool, logger: Logger) throws(SourceError) -> PCMSource {
        var logger = logger
        logger[metadataKey: "stream"] = "\(uri.name)"
        switch uri.kind {
        case .pipe(let path):
            return try PipeSource(path: path, format: uri.format, logger: logger)
        case .file(let path, let loop):
            return try WAVFileSource(path: path, loop: loop, requiredFormat: uri.explicitFormat, logger: logger)
        case .process(let path, let arguments):
            guard allowProcess else {
                throw .badURI("process:// sources are not allowed here (stream '\(uri.name)'); configure them in the server's own configuration")
            }
            return try ProcessSource(executable: path, arguments: arguments, format: uri.format, logger: logger)
        case .tcp(let host, let port, let mode):
            return try TCPSource(host: host, port: port, mode: mode, format: uri.format, logger: logger)
        case .signal(let kind, let frequency, let amplitude):
            return SignalSource(kind: kind, frequency: frequency, amplitude: amplitude, format: uri.format)
        case .pulse(let source, let server):
            return try CaptureSource(label: source ?? "the default source", format: uri.format, logger: logger) { () throws(OutputError) in
                try PulseRecorder(source: source, server: server, format: uri.format)
            }
        case .alsa(let device):
            return try CaptureSource(label: "alsa:\(device)", format: uri.format, logger: logger) { () throws(OutputError) in
                try ALSARecorder(device: device, format: uri.format)
            }
        }
    }
}
