import Testing
@testable import TuttiControl

/// A house with names that are easy to confuse: the speakers "Kitchen" and "Kitchen Speaker",
/// the stream "kitchen radio", a stereo pair "Den" and a group "Downstairs".
func confusableHouse() throws -> ModelFixture {
    var fixture = ModelFixture(streams: ["default", "jazz", "kitchen radio"])
    for id in ["kitchen", "kspk", "patio", "living", "den-l", "den-r"] { try fixture.connect(id) }
    try fixture.apply(.setName(speaker: "kitchen", name: "Kitchen"))
    try fixture.apply(.setName(speaker: "kspk", name: "Kitchen Speaker"))
    try fixture.apply(.setName(speaker: "patio", name: "Patio"))
    try fixture.apply(.setName(speaker: "living", name: "Living Room"))
    try fixture.apply(.createPair(left: "den-l", right: "den-r", name: "Den"))
    try fixture.apply(.createGroup(name: "Downstairs", speakers: ["living", "kspk"], stream: nil))
    return fixture
}

@Suite struct PhraseParserTests {
    let model: SystemModel

    init() throws {
        var fixture = try confusableHouse()
        try fixture.apply(.putRoutine(Routine(id: "", name: "Good Morning", aliases: ["wake up"], actions: [.setVolume(target: "kitchen", percent: 30)])))
        model = fixture.model
    }

    func parse(_ text: String) throws -> [RoutineAction] { try PhraseParser.parse(text, in: model) }

    @Test(arguments: [
        ("play jazz in the kitchen", RoutineAction.play(stream: "jazz", target: "the kitchen")),
        ("Play kitchen radio on Kitchen Speaker.", .play(stream: "kitchen radio", target: "kitchen speaker")),
        ("play the radio everywhere", .play(stream: "kitchen radio", target: "everywhere")),
        ("please play jazz in the whole house", .play(stream: "jazz", target: "the whole house")),
        ("play jazz at downstairs", .play(stream: "jazz", target: "downstairs")),
        ("switch to patio", .switchTo("patio")),
        ("move the music to the patio speakers", .switchTo("the patio speakers")),
        ("stop the kitchen", .mute(target: "the kitchen", muted: true)),
        ("pause downstairs", .mute(target: "downstairs", muted: true)),
        ("resume downstairs", .mute(target: "downstairs", muted: false)),
        ("volume 30 in kitchen speaker", .setVolume(target: "kitchen speaker", percent: 30)),
        ("volume 25% on the patio", .setVolume(target: "the patio", percent: 25)),
        ("volume to 40 percent for den", .setVolume(target: "den", percent: 40)),
        ("set the volume of the kitchen to 45", .setVolume(target: "the kitchen", percent: 45)),
        ("volume +15 in downstairs", .changeVolume(target: "downstairs", by: 15)),
        ("volume -5 in downstairs", .changeVolume(target: "downstairs", by: -5)),
        ("louder in the kitchen", .changeVolume(target: "the kitchen", by: 10)),
        ("quieter patio", .changeVolume(target: "patio", by: -10)),
        ("turn up the den", .changeVolume(target: "the den", by: 10)),
        ("volume down in patio", .changeVolume(target: "patio", by: -10)),
        ("mute patio", .mute(target: "patio", muted: true)),
        ("unmute Kitchen", .mute(target: "kitchen", muted: false)),
        ("group kitchen and patio as Outside Bar", .group(["kitchen", "patio"], name: "Outside Bar")),
        ("group kitchen, patio and den", .group(["kitchen", "patio", "den"], name: nil)),
        ("ungroup downstairs", .ungroup("downstairs")),
        ("move patio to downstairs", .move(speakers: ["patio"], target: "downstairs")),
        ("party mode on", .party(on: true, stream: nil)),
        ("party mode off", .party(on: false, stream: nil)),
        ("turn party mode on", .party(on: true, stream: nil)),
        ("start the party", .party(on: true, stream: nil)),
        ("stop the party", .party(on: false, stream: nil)),
        ("party mode on with jazz", .party(on: true, stream: "jazz")),
        ("pair kitchen and patio as Porch", .pair(left: "kitchen", right: "patio", name: "Porch")),
        ("unpair den", .unpair("den")),
        ("connect the JBL Flip", .bluetooth(connect: true, device: "jbl flip")),
        ("disconnect bose", .bluetooth(connect: false, device: "bose")),
        ("wait 2 minutes", .wait(seconds: 120)),
        ("good morning", .run(routine: "Good Morning")),
        ("Wake up!", .run(routine: "Good Morning")),
        ("run good mornin", .run(routine: "Good Morning")),
        ("Hey Tutti, play jazz in the kitchen", .play(stream: "jazz", target: "the kitchen")),
        ("OK, party mode on, please", .party(on: true, stream: nil)),
        ("volume +100 on patio", .changeVolume(target: "patio", by: 100)),
        ("wait 1 hour", .wait(seconds: 3600)),
    ])
    func readsEveryForm(text: String, expected: RoutineAction) throws {
        #expect(try parse(text) == [expected])
    }

    @Test func namesResolveToWhatPeopleMean() throws {
        let targets = Targets(model)
        #expect(try targets.target("the kitchen") == .speaker("kitchen"))
        #expect(try targets.target("kitchen speaker") == .speaker("kspk"))
        #expect(try targets.target("Kitchen Speakers") == .speaker("kspk"))
        #expect(try targets.target("den") == .pair(model.pairs[0].id))
        #expect(try targets.target("downstairs") == .group(model.group(of: "living")!.id))
        #expect(try targets.target("everything") == .everywhere)
        #expect(try targets.stream("the radio") == "kitchen radio")
        #expect(try targets.stream("kitchen radio") == "kitchen radio")
    }

    @Test func aSpeakerCalledLikeEverywhereIsThatSpeaker() throws {
        var fixture = try confusableHouse()
        try fixture.apply(.setName(speaker: "patio", name: "House"))
        #expect(try Targets(fixture.model).target("the house") == .speaker("patio"))
        #expect(try Targets(fixture.model).target("everywhere") == .everywhere)
        #expect(try Targets(fixture.model).target("the whole house") == .everywhere)
    }

    @Test func aGroupNamedLikeItsOnlySpeakerIsTheGroup() throws {
        var fixture = try confusableHouse()
        try fixture.apply(.setGroupName(group: fixture.groupID(of: "patio")!, name: "Patio"))
        #expect(try Targets(fixture.model).target("patio") == .group(fixture.groupID(of: "patio")!))
    }

    @Test func unknownNamesSayWhatWasUnderstoodAndTheClosestNames() {
        #expect {
            try parse("play jazz in the garage")
        } throws: { error in
            guard let error = error as? PhraseError else { return false }
            return error.understood?.contains("play") == true && error.problem?.name == "the garage"
                && error.problem?.suggestions.isEmpty == false
        }
        #expect {
            try parse("play metal on patio")
        } throws: { error in
            (error as? PhraseError)?.problem?.kind == "stream" && (error as? PhraseError)?.problem?.name == "metal"
        }
    }

    @Test func ambiguousNamesListWhatTheyCouldBe() {
        #expect {
            try parse("volume 30 in kitch")
        } throws: { error in
            guard let problem = (error as? PhraseError)?.problem else { return false }
            return Set(problem.candidates) == ["speaker Kitchen", "speaker Kitchen Speaker"]
        }
    }

    @Test(arguments: [
        "make me a sandwich", "", "play", "play jazz", "volume loud in kitchen", "volume 300 in kitchen", "group", "pair kitchen",
        "volume -9223372036854775808 in the kitchen", "volume +9223372036854775807 in the kitchen", "volume +101 on patio",
        "wait inf", "wait 1e300 seconds", "wait 2 hours", "wait -1",
    ])
    func sentencesItCannotReadAreRefused(text: String) {
        #expect(throws: PhraseError.self) { try parse(text) }
    }

    @Test func everyActionsSentenceReadsBackAsTheAction() throws {
        let actions: [RoutineAction] = [
            .play(stream: "jazz", target: "kitchen"), .play(stream: "jazz", target: "everywhere"), .switchTo("patio"),
            .move(speakers: ["patio", "kitchen"], target: "downstairs"), .group(["kitchen", "patio"], name: "Outside"), .ungroup("downstairs"),
            .setVolume(target: "patio", percent: 20), .changeVolume(target: "patio", by: -10), .changeVolume(target: "patio", by: 5),
            .mute(target: "den", muted: true), .mute(target: "den", muted: false), .party(on: true, stream: "jazz"), .party(on: false, stream: nil),
            .pair(left: "kitchen", right: "patio", name: "Porch"), .unpair("den"), .bluetooth(connect: true, device: "jbl flip"),
            .wait(seconds: 3), .run(routine: "Good Morning"),
        ]
        for action in actions {
            #expect(try PhraseParser.parse(action.text, in: model, mode: .routineAction) == [action], "\(action.text)")
            #expect(try RoutineAction(json: action.json, model: nil) == action, "\(action.json.text)")
        }
    }
}

@Suite struct RoutineActionSentenceTests {
    @Test func outOfRangeAmountsInActionObjectsAreRefused() {
        for object: JSON in [
            ["action": "volume", "target": "kitchen", "change": -9_223_372_036_854_775_807], ["action": "volume", "target": "kitchen", "change": 101],
            ["action": "wait", "seconds": 1e300], ["action": "wait", "seconds": -1], ["action": "wait", "seconds": 3601],
        ] {
            #expect(throws: RPCError.self, "\(object.text)") { try RoutineAction(json: object, model: nil) }
        }
    }

    @Test func aRoutinesActionMayBeAnotherRoutinesName() throws {
        var fixture = try confusableHouse()
        try fixture.apply(.putRoutine(Routine(id: "", name: "Quiet", actions: [.mute(target: "everywhere", muted: true)])))
        #expect(try PhraseParser.parse("quiet", in: fixture.model, mode: .routineAction) == [.run(routine: "Quiet")])
    }

    @Test func aRoutinesSentenceMayNameASpeakerOrGroupThatComesLater() throws {
        let model = try confusableHouse().model
        #expect(try PhraseParser.parse("play jazz in the garden", in: model, mode: .routineAction) == [.play(stream: "jazz", target: "the garden")])
        #expect(throws: PhraseError.self) { try PhraseParser.parse("play jazz in the garden", in: model) }
        // Streams, and names that fit several things, are still refused.
        #expect(throws: PhraseError.self) { try PhraseParser.parse("play metal in the kitchen", in: model, mode: .routineAction) }
        #expect(throws: PhraseError.self) { try PhraseParser.parse("mute kitch", in: model, mode: .routineAction) }
    }
}
