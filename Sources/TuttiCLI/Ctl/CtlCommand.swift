import ArgumentParser
import Foundation
import TuttiControl
import TuttiSpeaker

/// `tutti ctl`: control a running server from the shell, through its JSON-RPC port.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Control a running Tutti server: groups, party mode, stereo pairs, volumes, latency, streams, routines, sentences.",
        discussion: """
            Speakers, groups, pairs and streams are named as people say them: "kitchen", "the patio \
            speakers", an ID, or a group by one of its speakers. An unknown or ambiguous name exits \
            with code 2 and the closest names; a server error exits with 1. --json prints the result \
            as JSON for scripts. The server is 127.0.0.1:1705 unless --server says otherwise; from \
            outside its trusted networks give --token (or TUTTI_TOKEN).
            """,
        subcommands: [
            CtlStatus.self, CtlVolume.self, CtlMute.self, CtlUnmute.self, CtlLatency.self, CtlTrim.self, CtlName.self, CtlChannel.self,
            CtlForget.self, CtlGroup.self, CtlParty.self, CtlPair.self, CtlStream.self, CtlSay.self, CtlRoutine.self, CtlBluetooth.self, CtlSpeakers.self, CtlCalibrate.self,
        ]
    )
}

/// Options every `tutti ctl` command takes.
struct CtlOptions: ParsableArguments {
    @Option(name: .long, help: "The server, HOST[:PORT] (default 127.0.0.1:1705).")
    var server = "127.0.0.1"

    @Option(name: .long, help: "The server's token (needed outside its trusted networks; or set TUTTI_TOKEN).")
    var token: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    /// Connects, reads the status (for names), runs `body`, prints its output; turns every
    /// failure into a message and an exit code.
    func run(_ body: (ControlConnection, StatusSnapshot) async throws -> CtlOutput) async throws {
        guard let (host, port) = SpeakerConfiguration.parseServer(server, defaultPort: 1705) else {
            throw fail("--server '\(server)' is not HOST[:PORT]", code: 64)
        }
        do {
            let output = try await ControlConnection.with(host: host, port: port, token: token ?? ProcessInfo.processInfo.environment["TUTTI_TOKEN"]) { connection in
                let status = StatusSnapshot(try await connection.call("Server.GetStatus"))
                return try await body(connection, status)
            }
            print(json ? output.json.prettyText : output.text)
        } catch let error as CtlError {
            throw fail(error.description, code: error.exitCode)
        }
    }
}

extension CtlOptions {
    /// Calls `method` on the speaker people call `query`, with its ID added to `params`.
    func call(_ method: String, onSpeaker query: String, _ params: [String: JSON] = [:], saying text: @escaping (StatusSnapshot.Client) -> String) async throws {
        try await run { connection, status in
            let client = try status.speaker(query)
            let result = try await connection.call(method, .object(params.merging(["id": .string(client.id)]) { $1 }))
            return CtlOutput(text: text(client), json: result)
        }
    }

    /// Calls `method` on the group people call `query` (or the group of the speaker they name).
    func call(_ method: String, onGroup query: String, _ params: [String: JSON] = [:], saying text: @escaping (StatusSnapshot.Group) -> String) async throws {
        try await run { connection, status in
            let group = try status.group(query)
            let result = try await connection.call(method, .object(params.merging(["id": .string(group.id)]) { $1 }))
            return CtlOutput(text: text(group), json: result)
        }
    }
}

/// What a command prints: a line (or table) for people, JSON for scripts.
struct CtlOutput {
    var text: String
    var json: JSON
}

extension JSON {
    /// Indented text with sorted keys, for people reading `--json` output.
    var prettyText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? text
    }
}
