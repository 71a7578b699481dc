import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TuttiAudio
import TuttiHarness
import TuttiMeasure
import TuttiServer
import TuttiSources

/// `tutti demo`: a server with a music-like source and three speakers with different simulated
/// clocks, playing for a while; then a sync report measured from outside the speakers, a plot,
/// and each speaker's audio as a WAV.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play to simulated speakers and show how well they stay in sync.",
        discussion: """
            Starts tutti server (in this process) with a built-in music-like source and speaker \
            processes whose clocks are offset and off-rate (as independent devices would be). Each \
            speaker writes what it plays to a pipe; this process stamps every block on arrival and \
            aligns the speakers' audio by content, so the figures are measured from outside, not \
            reported by the speakers.

            With --web it keeps running instead (until Ctrl-C): a server with two streams and four \
            simulated rooms, one of them a "Bluetooth" speaker with a 250 ms latency setting, and the \
            web page at http://127.0.0.1:1780/ to try every feature from a browser (`tutti ctl` \
            works against it too).
            """
    )

    @Option(name: .long, help: "Seconds to play.")
    var seconds: Double = 10

    @Option(name: .long, help: "Number of speakers (1...8).")
    var speakers: Int = 3

    @Option(name: .customLong("buffer-ms"), help: "Server buffer in ms.")
    var bufferMs: Int = 1000

    @Option(name: .long, help: "Directory for the WAVs, the plot and the report.")
    var out: String = "demo-out"

    @Flag(name: .long, help: "Keep the server and speakers running and serve the web page, until Ctrl-C.")
    var web = false

    @Option(name: .customLong("http-port"), help: "With --web: the web page's port.")
    var httpPort = 1780

    @Option(name: .customLong("control-port"), help: "With --web: the JSON-RPC port (for tutti ctl).")
    var controlPort = 1705

    @Option(name: .long, help: "With --web: the address to listen on (0.0.0.0 to reach it from a phone).")
    var bind = "127.0.0.1"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...8).contains(speakers) else { throw ValidationError("--speakers must be 1...8") }
        guard (3...600).contains(seconds) else { throw ValidationError("--seconds must be 3...600") }
    }

    /// Simulated clocks: offsets of seconds and rate errors within ±100 ppm, different for each speaker.
    static let clocks: [(offset: Double, ppm: Double)] = [
        (2.5, 73), (-1.2, -91), (0.4, 18), (-3.3, 100), (1.7, -100), (0.9, -42), (-0.6, 55), (4.1, -7),
    ]

    func run() async throws {
        let logger = logging.makeLogger(label: "tutti.demo", fallback: .warning)
        if web {
            try await runWeb(logger: logger)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw fail("cannot create \(out): \(error.localizedDescription)")
        }
        say("Tutti demo: a server and \(speakers) speakers with independent simulated clocks, \(Int(seconds)) s of music.")
        let source = try SourceURI(parsing: "tone://?name=music&kind=music")
        var configuration = ServerConfiguration(sources: [source], bufferMs: bufferMs, bindAddress: "127.0.0.1", streamPort: 0, controlPort: 0, httpPort: 0)
        configuration.speakers = [:]
        let fleet = SpeakerFleet()
        let startedAt = monotonicNanos()
        try await TuttiServer.withRunning(configuration, logger: logger) { port in
            for index in 0..<speakers {
                let clock = Self.clocks[index]
                try fleet.startTuttiSpeaker(name: "speaker-\(index + 1)", port: port, instance: index + 1, offsetSeconds: clock.offset, driftPPM: clock.ppm)
                say(String(format: "  speaker-%d: clock offset %+.1f s, drift %+.0f ppm", index + 1, clock.offset, clock.ppm))
            }
            say("Playing", newline: false)
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                try await Task.sleep(for: .seconds(1))
                say(".", newline: false)
            }
            say("")
            fleet.sampleStats()
            fleet.stopAll()
        }
        let report = SyncAnalysis.analyze(fleet.captures(), startedAt: startedAt, settleAfter: startedAt + 3_000_000_000)
        try writeOutputs(report: report, fleet: fleet)
    }

    private func writeOutputs(report: SyncReport, fleet: SpeakerFleet) throws {
        for member in fleet.members {
            let pcm = member.process.output
            let wav = WAVHeader.canonicalBytes(for: .cd48k, dataSize: UInt64(pcm.count)) + pcm
            try save(Data(wav), to: "\(out)/\(member.name).wav")
        }
        let plot = report.svgPlot(title: "Tutti demo: deviation of each speaker from the group")
        try save(Data(plot.utf8), to: "\(out)/sync-plot.svg")

        var text = "\nSync report (measured outside the speakers; first 3 s excluded from the statistics)\n\n"
        text += report.textTable() + "\n"
        text += "Clocks: set by --clock-*, measured from the speakers' output, and found by each speaker's estimator\n"
        for member in fleet.members {
            let measured = report.players.first { $0.name == member.name }?.clockPPM
            let found = SpeakerFleet.reportedRatePPM(in: member.process.errorText)
            text += String(format: "  %@: set %+.0f ppm, DAC measured %@, speaker's estimate of the server clock %@\n",
                           member.name, member.driftPPM ?? 0,
                           measured.map { String(format: "%+.1f ppm", $0) } ?? "n/a",
                           found.map { String(format: "%+.1f ppm (≈ %+.1f ppm local drift)", $0, -$0) } ?? "n/a")
        }
        text += "\nWrote \(fleet.members.map { "\(out)/\($0.name).wav" }.joined(separator: ", ")) and \(out)/sync-plot.svg\n"
        say(text)
        try save(Data(text.utf8), to: "\(out)/report.txt")
    }
}

/// Writes `data` to `path` atomically; a failure (full disk, no permission) ends the command
/// with a message naming the file.
func save(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw fail("cannot write \(path): \(error.localizedDescription)")
    }
}

/// Writes to stdout at once (unbuffered), so progress shows while the demo runs.
func say(_ text: String, newline: Bool = true) {
    FileHandle.standardOutput.write(Data((newline ? text + "\n" : text).utf8))
}
