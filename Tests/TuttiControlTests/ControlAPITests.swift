import Testing
@testable import TuttiControl

/// Runs requests through the API's plans against a model, as the server does (minus I/O).
struct APIHarness {
    var fixture: ModelFixture
    let api = ControlAPI(identity: ServerIdentity(host: HostInfo(name: "box")))
    var notifications: [ControlAPI.Notification] = []

    init(_ fixture: ModelFixture) { self.fixture = fixture }

    mutating func call(_ method: String, _ params: JSON = [:]) throws(RPCError) -> JSON {
        let request = JSONRPC.Request(id: 1, method: method, params: params)
        switch try api.plan(request, model: fixture.model) {
        case .answer(let result):
            return result
        case .apply(let command, let render):
            let outcome: Outcome
            do {
                outcome = try fixture.apply(command)
            } catch {
                throw RPCError(error)
            }
            notifications = api.notifications(for: outcome.effects.events, in: fixture.model)
            return render(fixture.model, outcome.result)
        case .addStream, .authenticate, .subscribe, .run, .relay, .capabilities, .calibration:
            throw .internalError("not handled by this harness")
        }
    }
}

@Suite struct ControlAPITests {
    @Test func getStatusHasSnapcastsShapes() throws {
        var api = APIHarness(try ModelFixture.connected(["kitchen"]))
        let status = try api.call("Server.GetStatus")["server"]
        #expect(status?["server"]?["snapserver"]?["version"] == "0.26.0")
        #expect(status?["server"]?["host"]?["name"] == "box")
        let group = status?["groups"]?.arrayValue?.first
        #expect(group?["stream_id"] == "default")
        #expect(group?["muted"] == false)
        let client = group?["clients"]?.arrayValue?.first
        #expect(client?["id"] == "kitchen")
        #expect(client?["connected"] == true)
        #expect(client?["config"]?["volume"] == ["muted": false, "percent": 100])
        #expect(client?["config"]?["latency"] == 0)
        #expect(client?["host"]?["name"] == "kitchen-host")
        #expect(client?["snapclient"]?["version"] == "0.26.0")
        #expect(client?["lastSeen"]?["sec"]?.intValue != nil)
        let stream = status?["streams"]?.arrayValue?.first
        #expect(stream?["uri"]?["scheme"] == "tone")
        #expect(stream?["uri"]?["query"]?["name"] == "default")
        #expect(stream?["status"] == "idle")
    }

    @Test func latencyIsWholeMillisecondsForSnapcastAndFinerForTutti() throws {
        var api = APIHarness(try ModelFixture.connected(["a"]))
        #expect(try api.call("Client.SetLatency", ["id": "a", "latency": 180]) == ["latency": 180])
        #expect(api.fixture.model.speaker("a")?.latencyMicroseconds == 180_000)
        // A fraction (a calibration's correction, or a user's fine tuning): kept to the µs,
        // shown as a number that is not whole.
        #expect(try api.call("Client.SetLatency", ["id": "a", "latency": 180.4567]) == ["latency": .double(180.457)])
        #expect(api.notifications.first?.params == ["id": "a", "latency": .double(180.457)])
        let client = try api.call("Server.GetStatus")["server"]?["groups"]?.arrayValue?.first?["clients"]?.arrayValue?.first
        #expect(client?["config"]?["latency"] == .double(180.457))
        #expect(throws: RPCError.self) { try api.call("Client.SetLatency", ["id": "a", "latency": 1e300]) }
        #expect(throws: RPCError.self) { try api.call("Client.SetLatency", ["id": "a", "latency": "soon"]) }
        #expect(api.fixture.model.speaker("a")?.latencyMicroseconds == 180_457)
    }

    @Test func aTrimIsTuttisOwnAndShownInTheClientsConfig() throws {
        var api = APIHarness(try ModelFixture.connected(["a"]))
        #expect(try api.call("Client.SetTrim", ["id": "a", "trimDb": -3.5]) == ["trimDb": -3.5])
        #expect(api.notifications.map(\.method) == ["Client.OnTrimChanged"])
        #expect(api.notifications.first?.audience == .tutti)
        let client = try api.call("Server.GetStatus")["server"]?["groups"]?.arrayValue?.first?["clients"]?.arrayValue?.first
        #expect(client?["config"]?["trimDb"] == -3.5)
        #expect(throws: RPCError.self) { try api.call("Client.SetTrim", ["id": "a", "trimDb": 2]) }
        #expect(throws: RPCError.self) { try api.call("Client.SetTrim", ["id": "a"]) }
        #expect(api.fixture.model.speaker("a")?.trimDB == -3.5)
    }

    @Test func setVolumeAnswersWithTheNewVolumeAndNotifiesOthers() throws {
        var api = APIHarness(try ModelFixture.connected(["a"]))
        let result = try api.call("Client.SetVolume", ["id": "a", "volume": ["percent": 33]])
        #expect(result == ["volume": ["muted": false, "percent": 33]])
        #expect(api.notifications.map(\.method) == ["Client.OnVolumeChanged"])
        #expect(api.notifications.first?.params == ["id": "a", "volume": ["muted": false, "percent": 33]])
    }

    @Test(arguments: [
        ("Client.SetVolume", ["id": "a", "volume": ["percent": "loud"]] as JSON, -32602),
        ("Client.SetVolume", ["id": "a", "volume": 5] as JSON, -32602),
        ("Client.SetVolume", ["id": "a", "volume": [:]] as JSON, -32602),
        ("Client.SetVolume", ["id": "a", "volume": ["percent": 140]] as JSON, -32602),
        ("Client.SetLatency", ["id": "a"] as JSON, -32602),
        ("Client.SetLatency", ["id": "zz", "latency": 5] as JSON, -32603),
        ("Group.SetMute", ["id": "a", "mute": true] as JSON, -32603),
        ("Group.SetClients", ["id": "g1", "clients": "a"] as JSON, -32602),
        ("Client.SetChannel", ["id": "a", "channel": "middle"] as JSON, -32602),
        ("Stream.Control", ["id": "default", "command": "next"] as JSON, -32005),
        ("Stream.RemoveStream", ["id": "default"] as JSON, -32004),
        ("No.Such", [:] as JSON, -32601),
        ("Server.GetStatus", [1, 2] as JSON, -32602),
    ])
    func badCallsGetTheirErrorCode(method: String, params: JSON, code: Int) throws {
        var api = APIHarness(try ModelFixture.connected(["a"]))
        let before = api.fixture.model
        #expect(throws: RPCError.self) { try api.call(method, params) }
        do {
            _ = try api.call(method, params)
        } catch {
            #expect(error.code == code, "\(method) \(params.text): \(error)")
        }
        #expect(api.fixture.model == before)
    }

    @Test func groupCallsAnswerAsSnapcastDoes() throws {
        var api = APIHarness(try ModelFixture.connected(["a", "b"]))
        #expect(try api.call("Group.SetMute", ["id": "g1", "mute": true]) == ["mute": true])
        #expect(api.notifications.first?.method == "Group.OnMute")
        #expect(try api.call("Group.SetStream", ["id": "g1", "stream_id": "jazz"]) == ["stream_id": "jazz"])
        #expect(try api.call("Group.SetName", ["id": "g1", "name": "Kitchen"]) == ["name": "Kitchen"])
        let server = try api.call("Group.SetClients", ["id": "g1", "clients": ["a", "b"]])
        #expect(server["server"]?["groups"]?.arrayValue?.count == 1)
        #expect(api.notifications.map(\.method) == ["Server.OnUpdate"])
        let group = try api.call("Group.GetStatus", ["id": "g1"])["group"]
        #expect(group?["clients"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["a", "b"])
    }

    @Test func tuttisOwnMethods() throws {
        var api = APIHarness(try ModelFixture.connected(["a", "b", "c"]))
        let pair = try api.call("Pair.Create", ["left": "a", "right": "b", "name": "Living room"])["pair"]
        #expect(pair?["left"] == "a" && pair?["right"] == "b" && pair?["name"] == "Living room")
        let status = try api.call("Client.GetStatus", ["id": "b"])["client"]
        #expect(status?["config"]?["channel"] == "right")
        #expect(status?["pair"] == pair?["id"])
        let party = try api.call("Server.SetPartyMode", ["on": true, "stream_id": "radio"])
        #expect(party["party"]?["on"] == true)
        #expect(api.fixture.model.groups.count == 1)
        #expect(try api.call("Server.GetStatus")["server"]?["party"]?["on"] == true)
        _ = try api.call("Server.SetPartyMode", ["on": false])
        #expect(api.fixture.model.groups.count == 2)
        let group = try api.call("Group.Create", ["clients": ["c"], "name": "Patio", "stream_id": "jazz"])["group"]
        #expect(group?["name"] == "Patio" && group?["stream_id"] == "jazz")
        _ = try api.call("Client.SetVolume", ["id": "c", "volume": ["percent": 50]])
        let scaled = try api.call("Group.SetVolume", ["id": group?["id"] ?? "", "percent": 25])
        #expect(scaled["group"]?["clients"]?.arrayValue?.first?["config"]?["volume"]?["percent"] == 25)
        #expect(try api.call("Client.SetChannel", ["id": "c", "channel": "mono"]) == ["channel": "mono"])
        #expect(api.notifications.first?.audience == .tutti)
    }

    @Test func aNewSpeakerIsAnnouncedWithItsClientAndTheNewPicture() throws {
        var fixture = try ModelFixture.connected(["a"])
        try fixture.connect("b")
        let api = ControlAPI()
        let notes = api.notifications(for: fixture.lastOutcome?.effects.events ?? [], in: fixture.model)
        #expect(notes.map(\.method) == ["Server.OnUpdate", "Client.OnConnect"])
        #expect(notes.last?.params["client"]?["id"] == "b")
    }
}

@Suite struct CommandRunPlanTests {
    @Test func sentencesThatNameNothingOrSeveralThingsAreRefusedBeforeAnythingRuns() throws {
        var api = APIHarness(try confusableHouse())
        let before = api.fixture.model
        for text in ["volume 30 in kitch", "play jazz in the garage", "play metal on patio", "dance"] {
            #expect {
                try api.call("Command.Run", ["text": .string(text)])
            } throws: { error in
                (error as? RPCError)?.code == -32006
            }
        }
        #expect {
            try api.call("Command.Run", ["text": "volume 30 in kitch"])
        } throws: { error in
            (error as? RPCError)?.data?["candidates"] == ["speaker Kitchen", "speaker Kitchen Speaker"]
        }
        #expect(api.fixture.model == before)
    }

    @Test func updateAndDeleteFindARoutineOnlyByItsWholeName() throws {
        var api = APIHarness(try confusableHouse())
        _ = try api.call("Routine.Create", ["name": "Dinner", "actions": ["mute patio"]])
        _ = try api.call("Routine.Create", ["name": "Dinner party", "actions": ["party mode on"]])
        #expect {
            try api.call("Routine.Delete", ["id": "dinne"])
        } throws: { error in
            (error as? RPCError)?.code == -32006
        }
        _ = try api.call("Routine.Delete", ["id": "DINNER"])
        #expect(api.fixture.model.routines.map(\.name) == ["Dinner party"])
        #expect {
            try api.call("Routine.Delete", ["id": "dinner"])
        } throws: { error in
            (error as? RPCError)?.code == -32006
        }
    }
}
