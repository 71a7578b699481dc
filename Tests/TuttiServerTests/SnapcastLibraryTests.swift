import Foundation
import Testing
import TuttiControl
import TuttiTestSupport

/// Home Assistant's view: `tutti server` driven by the `snapcast` Python package (the library
/// its Snapcast integration uses), with a real snapclient and a Tutti speaker playing — each
/// change is made through the library and heard in the speakers' outputs.
@Suite(.serialized, .enabled(if: Peers.tutti != nil && Peers.snapclient != nil && SnapcastLibrary.available, "needs snapclient (apt-get install snapclient) and the snapcast Python package (pip install snapcast websockets)"))
struct SnapcastLibraryTests {
    static let sources = ["tone://?name=low&freq=440&codec=pcm", "tone://?name=high&freq=1000&codec=flac"]

    @Test func homeAssistantsLibraryControlsTuttiAndTheSpeakersActOnIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (stream, control, http) = (freePort(), freePort(), freePort())
        let server = try ChildProcess(Peers.tutti!, [
            "server", "--source", Self.sources[0], "--source", Self.sources[1], "--bind", "127.0.0.1", "--stream-port", "\(stream)",
            "--control-port", "\(control)", "--http-port", "\(http)", "--data-dir", directory.path,
        ])
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "server did not start: \(server.errorText)")
        let snapclient = try ChildProcess(Peers.snapclient!, ["-h", "127.0.0.1", "-p", "\(stream)", "--hostID", "sc", "--player", "file:filename=stdout"])
        defer { snapclient.stop() }
        let tutti = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", "tt", "--output", "pipe:stdout"])
        defer { tutti.stop() }
        let library = SnapcastLibrary(port: control)
        try #require(waitUntil(seconds: 10) { (try? library.run("status"))?["clients"]?.objectValue?.count == 2 }, "speakers did not appear")
        let watcher = try library.watch(seconds: 40)
        defer { watcher.stop() }
        try #require(waitUntil(seconds: 10) { watcher.outputText.contains("ready") })
        try await Task.sleep(for: .seconds(2.5))
        let speakers = [("snapclient", snapclient), ("tutti", tutti)]
        for (name, process) in speakers {
            let probe = PCMProbe.recent(process, seconds: 0.4)
            #expect(probe.level() > -20 && probe.toneShare(440) > 0.9, "\(name) plays the 440 Hz stream: \(probe), \(process.errorText.suffix(500))")
        }

        // Name and latency: stored and shown.
        var status = try library.run("name", "sc", "Patio")
        #expect(status["clients"]?["sc"]?["friendly_name"] == "Patio")
        status = try library.run("latency", "tt", "40")
        #expect(status["clients"]?["tt"]?["latency"] == 40)

        // Volume: heard as a lower level on both.
        let before = speakers.map { PCMProbe.recent($0.1, seconds: 0.4).level() }
        _ = try library.run("volume", "sc", "30")
        status = try library.run("volume", "tt", "30")
        #expect(status["clients"]?["tt"]?["volume"] == 30)
        try await Task.sleep(for: .seconds(2))
        for ((name, process), level) in zip(speakers, before) {
            let now = PCMProbe.recent(process, seconds: 0.4).level()
            #expect(now < level - 6, "\(name): \(level) dB before, \(now) dB at volume 30")
        }

        // Mute: silence; unmute: back.
        _ = try library.run("mute", "tt", "1")
        try await Task.sleep(for: .seconds(1.5))
        #expect(PCMProbe.recent(tutti, seconds: 0.4).level() < -90, "muted speaker is silent")
        _ = try library.run("mute", "tt", "0")
        try await Task.sleep(for: .seconds(1.5))
        #expect(PCMProbe.recent(tutti, seconds: 0.4).level() > -70, "unmuted speaker plays again")

        // Stream change: the other stream's tone is heard.
        let groups = status["groups"]?.arrayValue ?? []
        let ttGroup = try #require(groups.first { $0["clients"]?.arrayValue?.contains("tt") == true }?["id"]?.stringValue)
        status = try library.run("stream", ttGroup, "high")
        try await Task.sleep(for: .seconds(2))
        #expect(PCMProbe.recent(tutti, seconds: 0.4).toneShare(1000) > 0.9, "the Tutti speaker plays the 1 kHz stream")
        #expect(PCMProbe.recent(snapclient, seconds: 0.4).toneShare(440) > 0.9, "the snapclient, in another group, does not")

        // Group membership: the snapclient joins the Tutti speaker's group and plays its stream.
        status = try library.run("join", ttGroup, "sc")
        #expect(status["groups"]?.arrayValue?.first { $0["id"] == .string(ttGroup) }?["clients"] == ["sc", "tt"])
        try await Task.sleep(for: .seconds(2))
        #expect(PCMProbe.recent(snapclient, seconds: 0.4).toneShare(1000) > 0.9, "the snapclient plays its new group's stream")

        // The library heard every change as a notification (Home Assistant relies on them).
        let events = watcher.outputText.split(separator: "\n").compactMap { try? JSON(parsing: String($0)) }
        let last = try #require(events.last?["state"])
        #expect(last["clients"]?["tt"]?["volume"] == 30)
        #expect(last["clients"]?["sc"]?["friendly_name"] == "Patio")
        #expect(last["groups"]?.arrayValue?.count == 1)
        #expect(!watcher.errorText.contains("Traceback"), "\(watcher.errorText)")

        // The same API over the WebSocket on the HTTP port.
        let socket = try library.run("websocket", "\(http)")
        #expect(socket["status"]?["version"] == "0.26.0")
        #expect(socket["notification"]?["params"]?["latency"] == 33)
    }
}

/// Runs `Scripts/snapcast_client.py` (the `snapcast` Python package) against a control port.
struct SnapcastLibrary {
    let port: Int
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/snapcast_client.py").path

    static let available: Bool = {
        guard let python = Peers.which("python3"), let probe = try? ChildProcess(python, ["-c", "import snapcast.control, websockets"]) else { return false }
        return probe.waitForExit(seconds: 20) == 0
    }()

    /// Runs one command and returns the JSON it printed.
    func run(_ arguments: String...) throws -> JSON {
        let process = try ChildProcess(Peers.which("python3")!, [Self.script, "\(port)"] + arguments)
        guard process.waitForExit(seconds: 30) == 0 else { throw RPCTestError.noResponse(.string(process.errorText)) }
        return try JSON(parsing: String(decoding: process.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts the library listening for notifications; its output is one JSON line per callback.
    func watch(seconds: Int) throws -> ChildProcess {
        try ChildProcess(Peers.which("python3")!, ["-u", Self.script, "\(port)", "watch", "\(seconds)"])
    }
}

extension ChildProcess {
    var outputText: String { String(decoding: output, as: UTF8.self) }
}
