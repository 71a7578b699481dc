import Logging
import TuttiAudio
import TuttiTiming

/// Opens the output an ``OutputURI`` names.
public enum OutputFactory {
    /// Parses `spec` and opens that output for `format`, with its defaults.
    ///
    /// Virtual outputs (pipe, file, null) pace themselves on `clock`, so a `SkewedClock` makes
    /// them run at the simulated rate; ALSA and PulseAudio report their delay against `clock` but
    /// are paced by their hardware or server. Call from the thread that will drive the output.
    /// - Throws: ``OutputError`` from parsing (unknown scheme: the message lists the valid ones)
    ///   or from opening (missing library: names the Debian package).
    public static func open(
        _ spec: String, format: SampleFormat, clock: any TimeSource, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) -> any AudioOutput {
        try open(OutputURI(parsing: spec), format: format, clock: clock, logger: logger)
    }

    /// Opens the output `uri` names, for `format`.
    public static func open(
        _ uri: OutputURI, format: SampleFormat, clock: any TimeSource, logger: Logger = Logger(label: "tutti.output")
    ) throws(OutputError) -> any AudioOutput {
        switch uri {
        case .pipe(let destination):
            try PipeOutput(destination: destination, format: format, clock: clock, logger: logger)
        case .wavFile(let path):
            try WAVFileOutput(path: path, format: format, clock: clock, logger: logger)
        case .null:
            try NullOutput(format: format, clock: clock, logger: logger)
        case .alsa(let device):
            try ALSAOutput(device: device, format: format, clock: clock, logger: logger)
        case .pulse(let sink):
            try PulseOutput(sink: sink, format: format, clock: clock, logger: logger)
        }
    }
}
