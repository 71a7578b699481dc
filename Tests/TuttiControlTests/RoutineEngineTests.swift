import Testing
@testable import TuttiControl

/// A fixture that routine runs change, as the server's control plane does (no waits).
final class RunnableFixture: @unchecked Sendable {
    // One test uses it at a time; runs go one action after another.
    var fixture: ModelFixture

    init(_ fixture: ModelFixture) {
        self.fixture = fixture
    }

    var model: SystemModel { fixture.model }

    var runner: RoutineRunner {
        RoutineRunner(
            perform: { action throws(ControlError) in
                try RoutineEngine.perform(action, model: { self.fixture.model }) { command throws(ControlError) in try self.fixture.apply(command) }
            },
            wait: { _ in },
            routine: { name throws(ControlError) in try Targets(self.fixture.model).routine(name) })
    }

    func run(_ actions: [RoutineAction]) async -> RoutineReport { await runner.run(actions) }

    func say(_ text: String) async throws -> RoutineReport { await run(try PhraseParser.parse(text, in: model)) }
}

@Suite struct RoutineEngineTests {
    @Test func playOnASpeakerThatSharesItsGroupGivesItAGroupOfItsOwn() async throws {
        let house = RunnableFixture(try confusableHouse())
        let downstairs = house.fixture.groupID(of: "living")!
        let report = try await house.say("play jazz in the kitchen speaker")
        #expect(report.succeeded)
        #expect(house.fixture.members(of: "kspk") == ["kspk"])
        #expect(house.model.group(of: "kspk")?.streamID == "jazz")
        #expect(house.model.group(downstairs)?.speakerIDs == ["living"])
        #expect(house.model.group(downstairs)?.streamID == "default")
    }

    @Test func playOnAGroupSetsItsStreamAndUnmutesIt() async throws {
        let house = RunnableFixture(try confusableHouse())
        let downstairs = house.fixture.groupID(of: "living")!
        try house.fixture.apply(.setGroupMute(group: downstairs, muted: true))
        try house.fixture.apply(.setVolume(speaker: "living", percent: nil, muted: true))
        let report = try await house.say("play the radio downstairs")
        #expect(report.done == ["play stream kitchen radio on group Downstairs"])
        #expect(house.model.group(downstairs)?.streamID == "kitchen radio")
        #expect(house.model.group(downstairs)?.muted == false)
        #expect(house.model.speaker("living")?.muted == false)
    }

    @Test func playEverywhereIsPartyModeWithThatStream() async throws {
        let house = RunnableFixture(try confusableHouse())
        #expect(try await house.say("play jazz everywhere").succeeded)
        #expect(house.model.party != nil)
        #expect(house.model.groups.count == 1)
        #expect(house.model.groups[0].streamID == "jazz")
    }

    @Test func switchToMovesWhatIsPlayingAndMutesItWhereItWas() async throws {
        let house = RunnableFixture(try ModelFixture.connected(["a", "b", "patio"]))
        try house.fixture.apply(.setName(speaker: "patio", name: "Patio"))
        try house.fixture.apply(.createGroup(name: "Inside", speakers: ["a", "b"], stream: "jazz"))
        let report = try await house.say("switch to patio")
        #expect(report.succeeded, "\(report)")
        #expect(house.model.group(of: "patio")?.streamID == "jazz")
        #expect(house.model.group(of: "patio")?.muted == false)
        #expect(house.model.group(of: "a")?.muted == true)
    }

    @Test func switchToDuringAPartyEndsItAndLeavesOnlyTheTargetPlaying() async throws {
        let house = RunnableFixture(try ModelFixture.connected(["a", "b", "patio"]))
        try house.fixture.apply(.setName(speaker: "patio", name: "Patio"))
        #expect(try await house.say("party mode on").succeeded)
        #expect(house.model.groups.count == 1)
        let report = try await house.say("switch to patio")
        #expect(report.succeeded, "\(report)")
        #expect(house.model.party == nil)
        let audible = house.model.groups.filter { !$0.muted }.flatMap(\.speakerIDs)
        #expect(audible == ["patio"])
    }

    @Test func switchToWithNothingPlayingSaysSo() async throws {
        let house = RunnableFixture(try ModelFixture.connected(["a", "patio"]))
        for group in house.model.groups { try house.fixture.apply(.setGroupMute(group: group.id, muted: true)) }
        let before = house.model
        let report = try await house.say("switch to patio")
        guard case .conflict(let reason)? = report.failure?.error else { Issue.record("\(report)"); return }
        #expect(reason.contains("nothing is playing"))
        #expect(house.model == before)
    }

    @Test func relativeVolumeMovesAGroupsMeanAndClampsASpeaker() async throws {
        let house = RunnableFixture(try confusableHouse())
        try house.fixture.apply(.setVolume(speaker: "living", percent: 40, muted: nil))
        try house.fixture.apply(.setVolume(speaker: "kspk", percent: 60, muted: nil))
        #expect(try await house.say("louder downstairs").succeeded)
        // The mean goes from 50 to 60; the speakers keep their ratio.
        #expect(house.model.speaker("living")?.volume == 48)
        #expect(house.model.speaker("kspk")?.volume == 72)
        try house.fixture.apply(.setVolume(speaker: "patio", percent: 95, muted: nil))
        #expect(try await house.say("volume +10 on patio").succeeded)
        #expect(house.model.speaker("patio")?.volume == 100)
        #expect(try await house.say("volume 20 on den").succeeded)
        #expect(house.model.speaker("den-l")?.volume == 20)
        #expect(house.model.speaker("den-r")?.volume == 20)
    }

    @Test func muteEverywhereMutesEveryGroupAndStopMutesOnlyTheSpeaker() async throws {
        let house = RunnableFixture(try confusableHouse())
        #expect(try await house.say("stop the kitchen speaker").succeeded)
        #expect(house.model.speaker("kspk")?.muted == true)
        #expect(house.model.group(of: "living")?.muted == false)
        #expect(try await house.say("mute everything").succeeded)
        #expect(house.model.groups.allSatisfy { $0.muted })
    }

    @Test func groupUngroupPairAndUnpair() async throws {
        let house = RunnableFixture(try confusableHouse())
        #expect(try await house.say("group kitchen and patio as Outside").succeeded)
        #expect(house.model.group(of: "kitchen")?.name == "Outside")
        #expect(Set(house.fixture.members(of: "kitchen")) == ["kitchen", "patio"])
        #expect(try await house.say("ungroup outside").succeeded)
        #expect(house.fixture.members(of: "kitchen") == ["kitchen"])
        #expect(try await house.say("unpair den").succeeded)
        #expect(house.model.pairs.isEmpty)
        #expect(try await house.say("pair den-l and den-r as Den Again").succeeded)
        #expect(house.model.pairs.map(\.name) == ["Den Again"])
        #expect(try await house.say("move den to downstairs").succeeded)
        #expect(Set(house.fixture.members(of: "living")) == ["living", "kspk", "den-l", "den-r"])
    }

    @Test func aFailingActionStopsTheRunAndSaysWhatWasDone() async throws {
        let house = RunnableFixture(try confusableHouse())
        let report = await house.run([
            .setVolume(target: "patio", percent: 30), .bluetooth(connect: true, device: "jbl"), .setVolume(target: "kitchen", percent: 10),
        ])
        #expect(report.done == ["set the volume of speaker Patio to 30 %"])
        #expect(report.failure?.step == [2])
        #expect(report.failure?.action == "connect jbl")
        guard case .unavailable? = report.failure?.error else { Issue.record("\(report)"); return }
        #expect(house.model.speaker("patio")?.volume == 30)
        #expect(house.model.speaker("kitchen")?.volume == 100)
        #expect(report.rpcError(label: "test")?.code == -32005)
    }

    @Test func routinesRunRoutinesButNotForever() async throws {
        let house = RunnableFixture(try confusableHouse())
        try house.fixture.apply(.putRoutine(Routine(id: "", name: "Quiet", actions: [.setVolume(target: "everywhere", percent: 10)])))
        try house.fixture.apply(.putRoutine(Routine(id: "", name: "Night", actions: [.run(routine: "quiet"), .mute(target: "patio", muted: true)])))
        let report = try await house.say("night")
        #expect(report.succeeded)
        #expect(report.routines == ["Night", "Quiet"])
        #expect(house.model.speaker("kitchen")?.volume == 10)
        #expect(house.model.speaker("patio")?.muted == true)

        try house.fixture.apply(.putRoutine(Routine(id: "", name: "Loop", actions: [.run(routine: "loop")])))
        let looping = try await house.say("loop")
        #expect(looping.failure?.step == [1, 1, 1, 1, 1])
    }

    @Test func aDryRunDescribesAndChangesNothing() async throws {
        let house = RunnableFixture(try confusableHouse())
        let before = house.model
        let report = await RoutineRunner.dryRun(on: house.model).run(try PhraseParser.parse("play jazz in the kitchen", in: house.model))
        #expect(report.done == ["play stream jazz on speaker Kitchen"])
        #expect(house.model == before)
    }

    @Test func namesResolveWhenTheActionRunsSoRemadeGroupsStillWork() async throws {
        let house = RunnableFixture(try confusableHouse())
        let actions = try PhraseParser.parse("volume 50 in downstairs", in: house.model)
        try house.fixture.apply(.dissolveGroup(house.fixture.groupID(of: "living")!))
        try house.fixture.apply(.createGroup(name: "Downstairs", speakers: ["living", "patio"], stream: nil))
        #expect(await house.run(actions).succeeded)
        #expect(house.model.speaker("patio")?.volume == 50)
        #expect(house.model.speaker("kspk")?.volume == 100)
    }
}
