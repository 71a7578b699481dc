import Testing
@testable import TuttiControl

@Suite struct SystemModelPartyAndPairTests {
    /// Three groups: {a, b} on jazz, muted and named; {c} on radio; {d} on default.
    func threeGroups() throws -> ModelFixture {
        var fixture = try ModelFixture.connected(["a", "b", "c", "d"])
        let ab = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: ab, speakers: ["a", "b"]))
        try fixture.apply(.setGroupStream(group: ab, stream: "jazz"))
        try fixture.apply(.setGroupName(group: ab, name: "Downstairs"))
        try fixture.apply(.setGroupMute(group: ab, muted: true))
        try fixture.apply(.setGroupStream(group: try #require(fixture.groupID(of: "c")), stream: "radio"))
        return fixture
    }

    @Test func partyModeOnAndOffRestoresTheGroupingExactly() throws {
        var fixture = try threeGroups()
        let before = fixture.model.groups
        let on = try fixture.apply(.setPartyMode(on: true, stream: "radio"))
        #expect(fixture.model.groups.count == 1)
        let everywhere = try #require(fixture.model.groups.first)
        #expect(everywhere.name == "Everywhere" && everywhere.streamID == "radio" && !everywhere.muted)
        #expect(Set(everywhere.speakerIDs) == ["a", "b", "c", "d"])
        #expect(on.effects.playback.mapValues(\.streamID) == ["a": "radio", "b": "radio", "d": "radio"])
        #expect(on.effects.playback["a"]?.muted == false)
        #expect(fixture.stored == fixture.model.persistent)
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(fixture.model.groups == before)
        #expect(fixture.model.party == nil)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func partyModeWithoutAStreamPlaysTheBusiestGroupsStream() throws {
        var fixture = try threeGroups()
        try fixture.apply(.setPartyMode(on: true, stream: nil))
        #expect(fixture.model.groups.first?.streamID == "jazz")
        // Switching it on again only changes the stream.
        try fixture.apply(.setPartyMode(on: true, stream: "default"))
        #expect(fixture.model.groups.count == 1 && fixture.model.groups.first?.streamID == "default")
    }

    @Test func aSpeakerThatConnectsForTheFirstTimeDuringAPartyJoinsItAndKeepsAGroupAfterwards() throws {
        var fixture = try threeGroups()
        let before = fixture.model.groups
        try fixture.apply(.setPartyMode(on: true, stream: "radio"))
        try fixture.connect("e")
        #expect(fixture.model.groups.count == 1)
        #expect(fixture.members(of: "e").contains("e") && fixture.members(of: "e").count == 5)
        #expect(fixture.lastOutcome?.effects.playback["e"]?.streamID == "radio")
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(Array(fixture.model.groups.prefix(3)) == before)
        #expect(fixture.members(of: "e") == ["e"])
        #expect(fixture.model.group(of: "e")?.streamID == "radio")
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func partyModeWhileAPairExistsKeepsThePairTogether() throws {
        var fixture = try threeGroups()
        try fixture.apply(.createPair(left: "c", right: "d", name: "Living room"))
        let before = fixture.model.groups
        try fixture.apply(.setPartyMode(on: true, stream: nil))
        #expect(fixture.model.violations.isEmpty)
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(fixture.model.groups == before)
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func aPairCreatedDuringThePartyStaysTogetherWhenItEnds() throws {
        var fixture = try threeGroups()
        try fixture.apply(.setPartyMode(on: true, stream: nil))
        try fixture.apply(.createPair(left: "a", right: "d", name: nil))
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(fixture.members(of: "a") == ["a", "b", "d"])
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func groupsMadeByHandDuringThePartySurviveItsEnd() throws {
        var fixture = try threeGroups()
        try fixture.apply(.setPartyMode(on: true, stream: nil))
        try fixture.apply(.createGroup(name: "Quiet", speakers: ["b"], stream: "default"))
        #expect(fixture.model.party != nil)
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(fixture.grouping == [["a"], ["b"], ["c"], ["d"]])
        #expect(fixture.model.group(of: "b")?.name == "Quiet")
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func deletingAStreamDuringThePartyRestoresItsGroupsOnTheDefault() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        try fixture.apply(.addStream(StreamInfo(id: "ma", uri: "tcp://0.0.0.0:4953?name=ma&mode=server", origin: .api)))
        try fixture.apply(.setGroupStream(group: try #require(fixture.groupID(of: "a")), stream: "ma"))
        try fixture.apply(.setPartyMode(on: true, stream: "jazz"))
        try fixture.apply(.removeStream("ma"))
        try fixture.apply(.setPartyMode(on: false, stream: nil))
        #expect(fixture.model.group(of: "a")?.streamID == "default")
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func pairingASpeakerFromAnotherGroupMovesItAndMatchesVolumes() throws {
        var fixture = try threeGroups()
        try fixture.apply(.setVolume(speaker: "c", percent: 35, muted: nil))
        let outcome = try fixture.apply(.createPair(left: "c", right: "a", name: nil))
        guard case .createdPair(let id) = outcome.result else { Issue.record("no pair"); return }
        let pair = try #require(fixture.model.pair(id))
        #expect(pair.name == "c-host + a-host")
        #expect(fixture.members(of: "c") == ["c", "a"])
        #expect(fixture.members(of: "b") == ["b"])
        #expect(fixture.model.speaker("a")?.volume == 35)
        #expect(outcome.effects.playback["a"] == SpeakerPlayback(streamID: "radio", volume: 35, muted: false, latencyMicroseconds: 0, channel: .right))
        #expect(outcome.effects.playback["c"]?.channel == .left)
        #expect(fixture.model.violations.isEmpty)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func aPairMovesAndIsControlledAsOne() throws {
        var fixture = try threeGroups()
        try fixture.apply(.createPair(left: "c", right: "d", name: "Living room"))
        // Moving one member moves both.
        let ab = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: ab, speakers: ["a", "b", "c"]))
        #expect(fixture.members(of: "a") == ["a", "b", "c", "d"])
        // Removing one removes both, into one group.
        try fixture.apply(.setGroupClients(group: ab, speakers: ["a", "b", "d"]))
        #expect(fixture.grouping == [["a", "b"], ["c", "d"]])
        // Volume and mute on one apply to both; latency stays each speaker's own.
        try fixture.apply(.setVolume(speaker: "d", percent: 20, muted: true))
        #expect(fixture.model.speaker("c")?.volume == 20 && fixture.model.speaker("c")?.muted == true)
        try fixture.apply(.setLatency(speaker: "d", microseconds: 200_000))
        #expect(fixture.model.speaker("c")?.latencyMs == 0)
        try fixture.apply(.setTrim(speaker: "d", decibels: -3))
        #expect(fixture.model.speaker("c")?.trimDB == 0)
        // A pair member's channel belongs to the pair.
        #expect(throws: ControlError.self) { try fixture.apply(.setChannel(speaker: "c", .stereo)) }
        #expect(fixture.model.violations.isEmpty)
    }

    @Test func aSpeakerCannotBeInTwoPairsAndDeletingAPairRestoresStereo() throws {
        var fixture = try ModelFixture.connected(["a", "b", "c"])
        let outcome = try fixture.apply(.createPair(left: "a", right: "b", name: "P"))
        guard case .createdPair(let id) = outcome.result else { Issue.record("no pair"); return }
        #expect(throws: ControlError.conflict("speaker 'b' is already in stereo pair 'P'")) {
            try fixture.apply(.createPair(left: "c", right: "b", name: nil))
        }
        #expect(throws: ControlError.self) { try fixture.apply(.createPair(left: "c", right: "c", name: nil)) }
        let deleted = try fixture.apply(.deletePair(id))
        #expect(fixture.model.speaker("a")?.channel == .stereo && fixture.model.speaker("b")?.channel == .stereo)
        #expect(deleted.effects.playback.mapValues(\.channel) == ["a": .stereo, "b": .stereo])
        #expect(fixture.members(of: "a") == ["a", "b"])  // still grouped
        #expect(throws: ControlError.unknownPair(id)) { try fixture.apply(.deletePair(id)) }
    }

    @Test func restoringStoredStateRepairsWhatNoLongerFits() throws {
        var fixture = try threeGroups()
        try fixture.apply(.createPair(left: "c", right: "d", name: "Living room"))
        try fixture.apply(.addStream(StreamInfo(id: "ma", uri: "tcp://0.0.0.0:4953?name=ma&mode=server", origin: .api)))
        try fixture.apply(.setGroupStream(group: try #require(fixture.groupID(of: "c")), stream: "ma"))
        try fixture.apply(.setPartyMode(on: true, stream: nil))
        var counter = 0
        let restored = SystemModel(restoring: fixture.stored, configuredStreams: fixture.model.streams.filter { $0.origin == .configuration }) {
            counter += 1
            return "r\(counter)"
        }
        #expect(restored.persistent == fixture.model.persistent)
        #expect(restored.speakers.allSatisfy { !$0.connected })
        #expect(restored.violations.isEmpty)
        // Without the "jazz" stream in the configuration, its saved group falls back to the default.
        let fewer = SystemModel(restoring: fixture.stored, configuredStreams: [StreamInfo(id: "default", uri: "tone://"), StreamInfo(id: "radio", uri: "tone://")]) { "x" }
        #expect(fewer.violations.isEmpty)
        #expect(fewer.party?.savedGroups.isEmpty == false)
    }
}
