import Foundation
import Testing
import TuttiControl
import TuttiTestSupport
@testable import TuttiCLI
import TuttiServer

/// `tutti ctl`: arguments parsed without running, and the real executable against a running
/// server — tables, JSON, names as people write them, exit codes.
@Suite struct CtlArgumentTests {
    @Test(arguments: [
        (["ctl", "--server", "box:1705", "status"], ["ctl", "status", "--server", "box:1705"]),
        (["ctl", "--json", "--token=abc", "volume", "kitchen", "40"], ["ctl", "volume", "kitchen", "40", "--json", "--token=abc"]),
        (["ctl", "volume", "kitchen", "-10"], ["ctl", "volume", "kitchen", "--", "-10"]),
        (["ctl", "--server", "b", "latency", "tv", "-25", "--json"], ["ctl", "latency", "tv", "--server", "b", "--json", "--", "-25"]),
        (["server", "--json"], ["server", "--json"]),
    ])
    func connectionOptionsMayComeFirstAndNegativeNumbersAreValues(arguments: [String], expected: [String]) throws {
        let reordered = CtlArguments.reordered(arguments)
        #expect(reordered == expected)
        if arguments.first == "ctl" { _ = try TuttiCommand.parseAsRoot(reordered) }
    }

    @Test func badValuesAreUsageErrors() {
        #expect(throws: (any Error).self) { try TuttiCommand.parseAsRoot(["ctl", "volume", "kitchen", "loud"]) }
        #expect(throws: (any Error).self) { try TuttiCommand.parseAsRoot(["ctl", "party", "maybe"]) }
        #expect(throws: (any Error).self) { try TuttiCommand.parseAsRoot(["ctl", "channel", "kitchen", "middle"]) }
    }
}

@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct CtlProcessTests {
    static func ctl(_ port: Int, _ arguments: [String]) throws -> (code: Int32?, output: String, error: String) {
        let process = try ChildProcess(Peers.tutti!, ["ctl", "--server", "127.0.0.1:\(port)"] + arguments)
        let code = process.waitForExit(seconds: 15)
        return (code, String(decoding: process.output, as: UTF8.self), process.errorText)
    }

    @Test func controlsAServerByNamesPeopleUse() async throws {
        try await withServerPorts(sources: ControlAPIServerTests.twoStreams) { ports, _ in
            let kitchen = try RawSpeaker(port: ports.stream)
            kitchen.hello(id: "02:42:ac:11:00:02")
            let patio = try RawSpeaker(port: ports.stream)
            patio.hello(id: "patio-pi")
            let rpc = try RPCClient(port: ports.control)
            _ = try ControlAPIServerTests.waitForSpeakers(["02:42:ac:11:00:02", "patio-pi"], rpc)

            #expect(try Self.ctl(ports.control, ["name", "02:42:ac:11:00:02", "Kitchen"]).code == 0)
            let created = try Self.ctl(ports.control, ["group", "create", "Downstairs", "kitchen", "the patio speakers", "--stream", "jazz"])
            #expect(created.code == 0, "\(created.error)")
            let volume = try Self.ctl(ports.control, ["volume", "KITCHEN", "35"])
            #expect(volume.output.contains("Kitchen: volume 35"), "\(volume)")
            #expect(try Self.ctl(ports.control, ["volume", "kitchen", "-5"]).code == 0)
            #expect(try Self.ctl(ports.control, ["latency", "patio-pi", "120"]).code == 0)
            #expect(try Self.ctl(ports.control, ["mute", "downstairs"]).code == 0)

            let table = try Self.ctl(ports.control, ["status"])
            #expect(table.code == 0)
            #expect(table.output.contains("Downstairs — jazz"), "\(table.output)")
            #expect(table.output.contains("muted"))
            let json = try Self.ctl(ports.control, ["status", "--json"])
            let status = try JSON(parsing: json.output)
            let group = try #require(status["server"]?["groups"]?.arrayValue?.first { $0["name"] == "Downstairs" })
            #expect(group["stream_id"] == "jazz" && group["muted"] == true)
            let clients = group["clients"]?.arrayValue ?? []
            #expect(clients.first { $0["id"] == "02:42:ac:11:00:02" }?["config"]?["volume"]?["percent"] == 30)
            #expect(clients.first { $0["id"] == "patio-pi" }?["config"]?["latency"] == 120)

            let party = try Self.ctl(ports.control, ["party", "on", "--stream", "default"])
            #expect(party.code == 0, "\(party.error)")
            #expect(try rpc.result("Server.GetStatus")["server"]?["groups"]?.arrayValue?.count == 1)
            #expect(try Self.ctl(ports.control, ["party", "off"]).code == 0)
            #expect(try rpc.result("Server.GetStatus")["server"]?["groups"]?.arrayValue?.first?["name"] == "Downstairs")
        }
    }

    @Test func unknownNamesAndUnreachableServersExitWithAMessage() async throws {
        try await withServerPorts { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "kitchen")
            _ = try ControlAPIServerTests.waitForSpeakers(["kitchen"], try RPCClient(port: ports.control))
            let unknown = try Self.ctl(ports.control, ["volume", "garage", "10"])
            #expect(unknown.code == 2)
            #expect(unknown.error.contains("no speaker named 'garage' (closest: test)"), "\(unknown.error)")
            let refused = try Self.ctl(ports.control, ["latency", "kitchen", "20000"])
            #expect(refused.code == 1)
            #expect(refused.error.contains("outside"), "\(refused.error)")
        }
        let unreachable = try Self.ctl(freePort(), ["status"])
        #expect(unreachable.code == 1)
        #expect(unreachable.error.contains("cannot reach the Tutti server"), "\(unreachable.error)")
    }
}
