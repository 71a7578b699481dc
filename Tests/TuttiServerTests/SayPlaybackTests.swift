import Foundation
import Testing
import TuttiControl
import TuttiTestSupport

/// `tutti ctl say` and `tutti ctl routine`, the real executable against a real server with real
/// Tutti speakers: what the sentences do is heard in the speakers' outputs.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct SayPlaybackTests {
    @Test func partyModeOnThenSwitchToPatioMovesTheMusicThere() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (stream, control) = (freePort(), freePort())
        let server = try ChildProcess(Peers.tutti!, [
            "server", "--source", "tone://?name=music&freq=440&codec=pcm", "--bind", "127.0.0.1", "--stream-port", "\(stream)",
            "--control-port", "\(control)", "--http-port", "0", "--data-dir", directory.path, "--buffer-ms", "400",
        ])
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "server did not start: \(server.errorText)")
        let speakers = try ["kitchen", "living", "patio"].map { id in
            try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", id, "--output", "pipe:stdout"])
        }
        defer { speakers.forEach { $0.stop() } }
        let rpc = try RPCClient(port: control)
        let status = try ControlAPIServerTests.waitForSpeakers(["kitchen", "living", "patio"], rpc)
        // Before: only the living room plays; the kitchen and the patio are muted.
        for id in ["kitchen", "patio"] {
            _ = try rpc.result("Group.SetMute", ["id": .string(try #require(ControlAPIServerTests.groupID(of: id, status))), "mute": true])
        }
        _ = try rpc.result("Client.SetName", ["id": "patio", "name": "Patio"])
        try await Task.sleep(for: .seconds(1.5))
        #expect(Self.playing(speakers) == [false, true, false], "before: \(Self.levels(speakers))")

        let party = try CtlProcessTests.ctl(control, ["say", "party mode on"])
        #expect(party.code == 0, "\(party)")
        let grouped = try rpc.result("Server.GetStatus")["server"]?["groups"]?.arrayValue ?? []
        #expect(grouped.count == 1 && grouped.first?["clients"]?.arrayValue?.count == 3, "one group of every speaker")
        try await Task.sleep(for: .seconds(1.5))
        #expect(Self.playing(speakers) == [true, true, true], "party: \(Self.levels(speakers))")

        let dry = try CtlProcessTests.ctl(control, ["say", "--dry-run", "switch to the patio"])
        #expect(dry.code == 0 && dry.output.contains("would:") && dry.output.contains("speaker Patio"), "\(dry)")
        try await Task.sleep(for: .seconds(1))
        #expect(Self.playing(speakers) == [true, true, true], "a dry run changes nothing: \(Self.levels(speakers))")

        let moved = try CtlProcessTests.ctl(control, ["say", "switch", "to", "the", "patio"])
        #expect(moved.code == 0, "\(moved)")
        try await Task.sleep(for: .seconds(1.5))
        #expect(Self.playing(speakers) == [false, false, true], "after switching to the patio: \(Self.levels(speakers))")
        let patio = PCMProbe.recent(speakers[2], seconds: 1)
        #expect(patio.toneShare(440) > 0.9, "the patio plays the music: \(patio)")

        let unknown = try CtlProcessTests.ctl(control, ["say", "switch to the garage"])
        #expect(unknown.code == 2, "\(unknown)")
        #expect(unknown.error.contains("garage") && unknown.error.contains("closest"), "\(unknown.error)")
    }

    static func levels(_ speakers: [ChildProcess]) -> [Double] {
        speakers.map { PCMProbe.recent($0, seconds: 0.5).level() }
    }

    /// Which speakers play audibly now (the last half second of their output).
    static func playing(_ speakers: [ChildProcess]) -> [Bool] {
        levels(speakers).map { $0 > -40 }
    }
}

@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct CtlRoutineProcessTests {
    @Test func routinesAreMadeShownRunAndDeletedFromTheShell() async throws {
        try await withServerPorts(sources: ControlAPIServerTests.twoStreams) { ports, _ in
            let kitchen = try RawSpeaker(port: ports.stream)
            kitchen.hello(id: "kitchen")
            let rpc = try RPCClient(port: ports.control)
            _ = try ControlAPIServerTests.waitForSpeakers(["kitchen"], rpc)
            let ctl = { (arguments: [String]) in try CtlProcessTests.ctl(ports.control, arguments) }

            let created = try ctl([
                "routine", "create", "Dinner", "--action", "play jazz in the kitchen", "--action", "volume 25 on kitchen",
                "--alias", "supper", "--at", "18:30 weekdays", "--on", "speaker_connected:kitchen",
            ])
            #expect(created.code == 0, "\(created)")
            #expect(created.output.contains("1. play jazz on the kitchen") && created.output.contains("at 18:30 mon,tue,wed,thu,fri"), "\(created.output)")
            let list = try ctl(["routine", "list"])
            #expect(list.output.contains("Dinner") && list.output.contains("supper"), "\(list.output)")

            let run = try ctl(["routine", "run", "dinner"])
            #expect(run.code == 0, "\(run)")
            #expect(try RoutineServerTests.volume("kitchen", rpc) == 25)
            let said = try ctl(["say", "supper"])
            #expect(said.code == 0 && said.output.contains("play stream jazz on speaker test"), "\(said)")

            let edited = try ctl(["routine", "edit", "dinner", "--action", "connect the jbl", "--no-triggers", "--disable"])
            #expect(edited.code == 0 && edited.output.contains("(disabled)") && edited.output.contains("runs: by name\n"), "\(edited)")
            let failed = try ctl(["routine", "run", "dinner"])
            #expect(failed.code == 1 && failed.error.contains("no speaker host with Bluetooth is connected"), "\(failed)")

            #expect(try ctl(["routine", "delete", "supper"]).code == 0)
            #expect(try ctl(["routine", "show", "dinner"]).code == 2)
            withExtendedLifetime(kitchen) {}
        }
    }
}
