import Foundation
import Testing
import TuttiControl
import TuttiServer
import TuttiTestSupport

/// Routines and plain-text commands through a running server's JSON-RPC port: stored,
/// announced, run by request, by phrase, at times of day (on a clock the test moves) and when
/// speakers connect.
@Suite(.serialized) struct RoutineServerTests {
    static let streams = ["tone://?name=default&freq=440&codec=pcm", "tone://?name=jazz&freq=220&codec=pcm"]

    /// Known speakers (from the configuration), not connected: kitchen at 50 %, patio at 80 %.
    static func house(_ configuration: inout ServerConfiguration) {
        configuration.speakers = ["kitchen": .init(volume: 50), "patio": .init(volume: 80)]
        configuration.timeZone = "Europe/Berlin"
    }

    static func speaker(_ id: String, _ rpc: RPCClient) throws -> JSON? {
        ControlAPIServerTests.clients(try rpc.result("Server.GetStatus")).first { $0["id"] == .string(id) }
    }

    static func volume(_ id: String, _ rpc: RPCClient) throws -> Int? {
        try speaker(id, rpc)?["config"]?["volume"]?["percent"]?.intValue
    }

    static func errorObject(_ body: () throws -> JSON) -> JSON? {
        do {
            _ = try body()
            return nil
        } catch RPCTestError.errorResponse(let error) {
            return error
        } catch {
            return nil
        }
    }

    @Test func routinesAreCreatedListedEditedRunAndDeleted() async throws {
        try await withServerPorts(sources: Self.streams, configure: Self.house) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let listener = try RPCClient(port: ports.control)
            _ = try listener.result("Server.GetStatus")
            let created = try rpc.result("Routine.Create", [
                "name": "Dinner", "aliases": ["supper"],
                "actions": ["volume 30 on the kitchen", ["action": "mute", "target": "patio"]],
            ])["routine"]
            let id = try #require(created?["id"]?.stringValue)
            #expect(created?["actions"] == [["action": "volume", "target": "the kitchen", "percent": 30], ["action": "mute", "target": "patio"]])
            #expect(listener.notification("Routine.OnUpdate")?["params"]?["routines"]?.arrayValue?.count == 1)
            #expect(try rpc.result("Routine.List")["routines"]?.arrayValue?.map { $0["name"] } == ["Dinner"])

            let run = try rpc.result("Routine.Run", ["id": "supper"])
            #expect(run["ok"] == true)
            #expect(run["done"]?.arrayValue?.count == 2)
            #expect(try Self.volume("kitchen", rpc) == 30)
            #expect(try Self.speaker("patio", rpc)?["config"]?["volume"]?["muted"] == true)
            #expect(listener.notification("Routine.OnRun")?["params"]?["label"] == "routine 'Dinner'")

            _ = try rpc.result("Routine.Update", ["id": .string(id), "actions": ["volume 60 on kitchen"]])
            #expect(try rpc.result("Command.Run", ["text": "Dinner"])["ok"] == true)
            #expect(try Self.volume("kitchen", rpc) == 60)

            // A bad edit changes nothing.
            let refused = Self.errorObject { try rpc.result("Routine.Update", ["id": .string(id), "actions": ["play metal on the kitchen"]]) }
            #expect(refused?["code"] == -32006)
            #expect(refused?["data"]?["detail"]?.stringValue?.contains("action 1") == true)
            #expect(try rpc.result("Routine.List")["routines"]?.arrayValue?.first?["actions"] == [["action": "volume", "target": "kitchen", "percent": 60]])
            #expect(Self.errorObject { try rpc.result("Routine.Create", ["name": "supper", "actions": ["mute patio"]]) }?["code"] == -32004)

            _ = try rpc.result("Routine.Delete", ["id": "dinner"])
            #expect(try rpc.result("Routine.List")["routines"] == [])
            #expect(Self.errorObject { try rpc.result("Command.Run", ["text": "dinner"]) }?["code"] == -32006)
        }
    }

    @Test func aFailingActionStopsTheRoutineAndTheErrorSaysWhatWasDone() async throws {
        try await withServerPorts(sources: Self.streams, configure: Self.house) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            _ = try rpc.result("Routine.Create", [
                "name": "Outside", "actions": ["volume 10 on kitchen", "connect the JBL Flip", "volume 90 on kitchen"],
            ])
            let error = try #require(Self.errorObject { try rpc.result("Routine.Run", ["id": "outside"]) })
            #expect(error["code"] == -32005)
            #expect(error["message"]?.stringValue?.contains("stopped at action 2 ('connect jbl flip')") == true)
            #expect(error["data"]?["done"] == ["set the volume of speaker kitchen to 10 %"])
            #expect(error["data"]?["failed"]?["step"] == [2])
            #expect(try Self.volume("kitchen", rpc) == 10)
        }
    }

    @Test func plainTextActsDryRunsDescribeAndUnknownPhrasesChangeNothing() async throws {
        try await withServerPorts(sources: Self.streams, configure: Self.house) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let before = StatePersistenceTests.storedPart(try rpc.result("Server.GetStatus"))
            let dry = try rpc.result("Command.Run", ["text": "play jazz in the kitchen", "dryRun": true])
            #expect(dry["dryRun"] == true)
            #expect(dry["actions"] == ["play jazz on the kitchen"])
            #expect(dry["done"] == ["play stream jazz on speaker kitchen"])
            #expect(StatePersistenceTests.storedPart(try rpc.result("Server.GetStatus")) == before)

            for text in ["play jazz in the garage", "make me a sandwich", "volume 30 in"] {
                let error = Self.errorObject { try rpc.result("Command.Run", ["text": .string(text)]) }
                #expect(error?["code"] == -32006, "\(text)")
            }
            let garage = Self.errorObject { try rpc.result("Command.Run", ["text": "play jazz in the garage"]) }
            #expect(garage?["data"]?["understood"]?.stringValue?.hasPrefix("play") == true)
            #expect(garage?["data"]?["suggestions"]?.arrayValue?.isEmpty == false)
            #expect(StatePersistenceTests.storedPart(try rpc.result("Server.GetStatus")) == before)

            #expect(try rpc.result("Command.Run", ["text": "play jazz in the kitchen"])["ok"] == true)
            let status = try rpc.result("Server.GetStatus")
            let kitchenGroup = status["server"]?["groups"]?.arrayValue?.first { group in
                group["clients"]?.arrayValue?.contains { $0["id"] == "kitchen" } == true
            }
            #expect(kitchenGroup?["stream_id"] == "jazz")
        }
    }

    @Test func timesOfDayRunOnceAtTheLocalTimeAcrossDaylightSavingAndWaitsFollowTheClock() async throws {
        // 06:58 in Berlin (CET) on the day before clocks go forward.
        let clock = ManualRoutineClock(now: ISO8601DateFormatter().date(from: "2026-03-28T05:58:00Z")!)
        try await withServerPorts(sources: Self.streams, configure: Self.house, routineClock: clock) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let listener = try RPCClient(port: ports.control)
            _ = try listener.result("Server.GetStatus")
            _ = try rpc.result("Routine.Create", ["name": "Wake", "actions": ["louder in kitchen"], "triggers": [["at": "07:00"]]])
            try #require(waitUntil(seconds: 5) { clock.sleepers == 1 }, "the routine timer is not waiting")
            clock.set(ISO8601DateFormatter().date(from: "2026-03-28T05:59:59Z")!)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try Self.volume("kitchen", rpc) == 50)
            clock.set(ISO8601DateFormatter().date(from: "2026-03-28T06:00:00Z")!)  // 07:00 CET
            #expect(waitUntil(seconds: 5) { (try? Self.volume("kitchen", rpc)) == 60 })
            #expect(listener.notification("Routine.OnRun")?["params"]?["trigger"]?.stringValue?.hasPrefix("time 2026-03-28 07:00") == true)
            clock.set(ISO8601DateFormatter().date(from: "2026-03-28T06:30:00Z")!)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try Self.volume("kitchen", rpc) == 60, "ran twice")
            // The next day is summer time: 07:00 is 05:00 UTC, not 06:00.
            clock.set(ISO8601DateFormatter().date(from: "2026-03-29T04:59:00Z")!)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try Self.volume("kitchen", rpc) == 60)
            clock.set(ISO8601DateFormatter().date(from: "2026-03-29T05:00:00Z")!)
            #expect(waitUntil(seconds: 5) { (try? Self.volume("kitchen", rpc)) == 70 })

            // A routine's wait runs on the same clock: the call answers once the clock has moved.
            _ = try rpc.result("Routine.Create", ["name": "Fade", "actions": ["volume 10 on patio", "wait 60 seconds", "volume 90 on patio"]])
            rpc.sendLine(#"{"jsonrpc":"2.0","id":"fade","method":"Routine.Run","params":{"id":"fade"}}"#)
            #expect(waitUntil(seconds: 5) { (try? Self.volume("patio", listener)) == 10 })
            // Meanwhile the same connection is answered.
            #expect(try Self.volume("patio", rpc) == 10)
            #expect(waitUntil(seconds: 5) { clock.sleepers == 2 })
            clock.advance(by: 60)
            let response = try rpc.response(id: "fade")
            #expect(response["result"]?["ok"] == true)
            #expect(response["result"]?["routines"] == ["Fade"])
            #expect(try Self.volume("patio", rpc) == 90)
        }
    }

    @Test func eventTriggersRunWhenTheirSpeakerConnects() async throws {
        try await withServerPorts(sources: Self.streams, configure: Self.house) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            _ = try rpc.result("Routine.Create", [
                "name": "Kitchen arrives", "actions": ["volume 20 on kitchen"],
                "triggers": [["event": "speaker_connected", "subject": "the kitchen"]],
            ])
            let patio = try RawSpeaker(port: ports.stream)
            patio.hello(id: "patio")
            _ = try ControlAPIServerTests.waitForSpeakers(["patio"], rpc)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try Self.volume("kitchen", rpc) == 50, "another speaker's connection does not run it")
            let kitchen = try RawSpeaker(port: ports.stream)
            kitchen.hello(id: "kitchen")
            #expect(waitUntil(seconds: 5) { (try? Self.volume("kitchen", rpc)) == 20 })
            withExtendedLifetime([patio, kitchen]) {}
        }
    }
}
