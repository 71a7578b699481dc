import Foundation
import Testing
import TuttiTestSupport
@testable import TuttiCLI
import TuttiServer

/// `tutti server` option and config-file handling, parsed without running, and the process's
/// exit codes and messages when it cannot start.
@Suite struct ServerCommandTests {
    private func parse(_ arguments: [String]) throws -> ServerCommand {
        let command = try TuttiCommand.parseAsRoot(["server"] + arguments)
        return try #require(command as? ServerCommand)
    }

    @Test func commandLineSettings() throws {
        let command = try parse([
            "--source", "tone://?name=a", "--source", "pipe:///tmp/x?name=b", "--buffer-ms", "800",
            "--bind", "127.0.0.1", "--stream-port", "1804", "--control-port", "1805", "--http-port", "1880",
        ])
        let configuration = try command.resolvedConfiguration()
        #expect(configuration.sources.map(\.name) == ["a", "b"])
        #expect(configuration.bufferMs == 800)
        #expect(configuration.bindAddress == "127.0.0.1")
        #expect(configuration.streamPort == 1804)
        #expect(configuration.controlPort == 1805)
        #expect(configuration.httpPort == 1880)
    }

    @Test func configFileWithCommandLineOverrides() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = "\(directory.path)/tutti.toml"
        try """
            buffer_ms = 600
            stream_port = 1904
            time_zone = "America/New_York"
            sources = ["tone://?name=first"]

            [[stream]]
            source = "tone://?name=jazz&freq=220"

            [speakers."kitchen"]
            stream = "jazz"
            volume = 40
            latency_ms = 25
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try parse(["--config", path, "--stream-port", "2004", "--source", "tone://?name=cli"]).resolvedConfiguration()
        #expect(configuration.sources.map(\.name) == ["first", "jazz", "cli"])
        #expect(configuration.bufferMs == 600)
        #expect(configuration.streamPort == 2004)
        #expect(configuration.speakers["kitchen"] == .init(stream: "jazz", volume: 40, muted: false, latencyMs: 25))
        #expect(configuration.timeZone == "America/New_York")
    }

    @Test(arguments: [
        ("buffer_ms = ", "not valid TOML"),
        ("bufer_ms = 100\nsources = [\"tone://?name=a\"]", "unknown keys: bufer_ms"),
        ("buffer_ms = \"long\"\nsources = [\"tone://?name=a\"]", "'buffer_ms' has the wrong type"),
        ("sources = [\"tone://?name=a\"]\n[speakers.den]\nstream = \"nope\"", "unknown stream 'nope'"),
        ("sources = [\"bogus://x\"]", "bad source URI"),
        ("buffer_ms = 5\nsources = [\"tone://?name=a\"]", "buffer 5 ms is outside"),
        ("", "no source"),
        ("sources = [\"tone://?name=a\"]\ntime_zone = \"Mars/Olympus\"", "'Mars/Olympus' is not a time zone"),
        // Found by the fuzzer: the TOML parser used before aborted the process on these.
        ("sources = [\"tone://?name=a\"]\n[k\u{01}]", "line 2: expected ']' to end the table name, found control character U+0001"),
        ("token = \"\"\"a\n[b\"\"\"\nsources = [\n  \"tone://?name=a\",\n]\n [ #]", "line 6: expected a key"),
    ])
    func badConfigFilesAreExplained(text: String, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = "\(directory.path)/tutti.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try parse(["--config", path]).resolvedConfiguration()
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(message) == true
        }
    }

    @Test func missingConfigFileIsExplained() throws {
        #expect {
            try parse(["--config", "/nonexistent/tutti.toml"]).resolvedConfiguration()
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("cannot read config file /nonexistent/tutti.toml") == true
        }
    }
}

/// The real executable: clear messages and non-zero exits when it cannot start, exit 0 on SIGTERM.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct ServerProcessTests {
    @Test func badURIExitsWithUsageError() throws {
        let server = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "nonsense://x"]))
        #expect(server.waitForExit(seconds: 10) == 64)
        #expect(server.errorText.contains("tutti: error: bad source URI"), "\(server.errorText)")
    }

    @Test func busyPortExitsWithAClearMessage() throws {
        let port = freePort()
        let first = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--bind", "127.0.0.1", "--stream-port", "\(port)"]))
        defer { first.stop() }
        try #require(waitUntil(seconds: 10) { first.errorText.contains("serving") })
        let second = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--bind", "127.0.0.1", "--stream-port", "\(port)"]))
        #expect(second.waitForExit(seconds: 10) == 1)
        #expect(second.errorText.contains("cannot listen on 127.0.0.1:\(port)"), "\(second.errorText)")
    }

    @Test func unreadableWAVFileExitsWithAClearMessage() throws {
        let server = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "file:///nonexistent/song.wav?name=s", "--stream-port", "0"]))
        #expect(server.waitForExit(seconds: 10) == 1)
        #expect(server.errorText.contains("stream 's'"), "\(server.errorText)")
    }

    @Test func aDamagedStateDatabaseStopsTheServerWithAClearMessageAndIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try garbage.write(to: URL(fileURLWithPath: "\(directory.path)/tutti.sqlite"))
        let server = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--stream-port", "0"], dataDirectory: directory.path))
        #expect(server.waitForExit(seconds: 10) == 1)
        #expect(server.errorText.contains("damaged or not a Tutti database"), "\(server.errorText)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/tutti.sqlite")) == garbage)
    }

    @Test func twoServersCannotShareADataDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let first = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--bind", "127.0.0.1", "--stream-port", "0"], dataDirectory: directory.path))
        defer { first.stop() }
        try #require(waitUntil(seconds: 10) { first.errorText.contains("serving") })
        let second = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--bind", "127.0.0.1", "--stream-port", "0"], dataDirectory: directory.path))
        #expect(second.waitForExit(seconds: 10) == 1)
        #expect(second.errorText.contains("another tutti server is using it"), "\(second.errorText)")
    }

    @Test func sigtermShutsDownCleanly() throws {
        let server = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "tone://?name=a", "--bind", "127.0.0.1", "--stream-port", "\(freePort())"]))
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") })
        server.signal(SIGTERM)
        #expect(server.waitForExit(seconds: 5) == 0)
        #expect(server.errorText.contains("shutting down"))
    }
}
