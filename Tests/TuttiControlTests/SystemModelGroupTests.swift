import Testing
@testable import TuttiControl

@Suite struct SystemModelGroupTests {
    @Test func setClientsMovesSpeakersInAndDeletesTheGroupsTheyLeftEmpty() throws {
        var fixture = try ModelFixture.connected(["a", "b", "c"])
        let groupA = try #require(fixture.groupID(of: "a"))
        let groupB = try #require(fixture.groupID(of: "b"))
        try fixture.apply(.setGroupStream(group: groupA, stream: "jazz"))
        let outcome = try fixture.apply(.setGroupClients(group: groupA, speakers: ["a", "b"]))
        #expect(fixture.members(of: "a") == ["a", "b"])
        #expect(fixture.model.group(groupB) == nil)
        #expect(outcome.effects.events == [.structureChanged])
        // b now plays jazz: its session is told; a's playback did not change.
        #expect(outcome.effects.playback.keys.sorted() == ["b"])
        #expect(outcome.effects.playback["b"]?.streamID == "jazz")
        #expect(fixture.model.violations.isEmpty)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func movingTheLastSpeakerOutOfAGroupDeletesThatGroup() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        let groupA = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: try #require(fixture.groupID(of: "b")), speakers: ["b", "a"]))
        #expect(fixture.model.group(groupA) == nil)
        #expect(fixture.model.groups.count == 1)
        #expect(fixture.stored.groups.map(\.id) == fixture.model.groups.map(\.id))
    }

    @Test func speakersRemovedFromAGroupEachGetAGroupPlayingTheSameStream() throws {
        var fixture = try ModelFixture.connected(["a", "b", "c"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a", "b", "c"]))
        try fixture.apply(.setGroupStream(group: group, stream: "radio"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a"]))
        #expect(fixture.grouping == [["a"], ["b"], ["c"]])
        #expect(fixture.model.groups.allSatisfy { $0.streamID == "radio" })
        #expect(fixture.model.violations.isEmpty)
    }

    /// Found by the jsonrpc fuzzer: when every old member leaves and only newcomers are listed,
    /// the group keeps its ID and gets the newcomers (it was dropped as empty, losing them).
    @Test func setClientsReplacingEveryMemberKeepsTheGroupAndTheNewcomers() throws {
        var fixture = try ModelFixture.connected(["a", "b", "c"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a", "b"]))
        try fixture.apply(.setGroupClients(group: group, speakers: ["c"]))
        #expect(fixture.groupID(of: "c") == group)
        #expect(fixture.grouping == [["a"], ["b"], ["c"]])
        #expect(fixture.model.violations.isEmpty)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func setClientsToNothingEmptiesAndDeletesTheGroup() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a", "b"]))
        try fixture.apply(.setGroupClients(group: group, speakers: []))
        #expect(fixture.model.group(group) == nil)
        #expect(fixture.grouping == [["a"], ["b"]])
    }

    @Test func groupMuteMutesEveryMemberButKeepsTheirOwnMute() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a", "b"]))
        let outcome = try fixture.apply(.setGroupMute(group: group, muted: true))
        #expect(outcome.effects.events == [.groupMuteChanged(group)])
        #expect(outcome.effects.playback.mapValues(\.muted) == ["a": true, "b": true])
        #expect(fixture.model.speaker("a")?.muted == false)
        try fixture.apply(.setGroupMute(group: group, muted: false))
        #expect(fixture.model.playback(of: "b")?.muted == false)
    }

    @Test func streamAndNameChanges() throws {
        var fixture = try ModelFixture.connected(["a"])
        let group = try #require(fixture.groupID(of: "a"))
        #expect(try fixture.apply(.setGroupStream(group: group, stream: "jazz")).effects.events == [.groupStreamChanged(group)])
        #expect(fixture.lastOutcome?.effects.playback["a"]?.streamID == "jazz")
        #expect(try fixture.apply(.setGroupName(group: group, name: "Downstairs")).effects.events == [.groupNameChanged(group)])
        #expect(fixture.stored.groups.first?.name == "Downstairs")
    }

    @Test(arguments: [
        ([50, 25], 75, [100, 50]),
        ([50, 25], 25, [33, 17]),
        ([80, 40], 90, [100, 80]),  // 80 would pass 100: it stops there, the other makes up the rest
        ([0, 0], 30, [30, 30]),
        ([60, 30, 0], 0, [0, 0, 0]),
        ([10], 100, [100]),
    ])
    func groupVolumeKeepsRatiosWithinRange(volumes: [Int], mean: Int, expected: [Int]) {
        #expect(GroupVolume.scaled(volumes, toMean: mean) == expected)
    }

    @Test func groupVolumeMovesEveryMember() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.setGroupClients(group: group, speakers: ["a", "b"]))
        try fixture.apply(.setVolume(speaker: "a", percent: 60, muted: nil))
        try fixture.apply(.setVolume(speaker: "b", percent: 30, muted: nil))
        let outcome = try fixture.apply(.setGroupVolume(group: group, percent: 30))
        #expect(fixture.model.speaker("a")?.volume == 40)
        #expect(fixture.model.speaker("b")?.volume == 20)
        #expect(Set(outcome.effects.events) == [.speakerVolumeChanged("a"), .speakerVolumeChanged("b")])
    }

    @Test func createGroupTakesSpeakersFromTheirGroupsAndDissolveSplitsItAgain() throws {
        var fixture = try ModelFixture.connected(["a", "b", "c"])
        try fixture.apply(.setGroupStream(group: try #require(fixture.groupID(of: "b")), stream: "jazz"))
        let outcome = try fixture.apply(.createGroup(name: "Downstairs", speakers: ["b", "c"], stream: nil))
        guard case .createdGroup(let id) = outcome.result else { Issue.record("no group created"); return }
        let group = try #require(fixture.model.group(id))
        #expect(group.name == "Downstairs" && group.streamID == "jazz" && group.speakerIDs == ["b", "c"])
        #expect(fixture.grouping == [["a"], ["b", "c"]])
        #expect(outcome.effects.playback.keys.sorted() == ["c"])
        try fixture.apply(.dissolveGroup(id))
        #expect(fixture.grouping == [["a"], ["b"], ["c"]])
        #expect(fixture.model.violations.isEmpty)
        #expect(throws: ControlError.self) { try fixture.apply(.createGroup(name: "x", speakers: [], stream: nil)) }
    }

    @Test func streamsAddedThroughTheAPIAreStoredAndRemovableConfiguredOnesAreNot() throws {
        var fixture = try ModelFixture.connected(["a"])
        let group = try #require(fixture.groupID(of: "a"))
        try fixture.apply(.addStream(StreamInfo(id: "ma", uri: "tcp://0.0.0.0:4953?name=ma&mode=server", origin: .api)))
        #expect(fixture.stored.streams.map(\.id) == ["ma"])
        #expect(throws: ControlError.self) { try fixture.apply(.addStream(StreamInfo(id: "ma", uri: "x", origin: .api))) }
        try fixture.apply(.setGroupStream(group: group, stream: "ma"))
        let outcome = try fixture.apply(.removeStream("ma"))
        #expect(fixture.model.group(group)?.streamID == "default")
        #expect(outcome.effects.playback["a"]?.streamID == "default")
        #expect(fixture.stored.streams.isEmpty)
        #expect(throws: ControlError.conflict("stream 'jazz' comes from the server's configuration; remove it there")) {
            try fixture.apply(.removeStream("jazz"))
        }
    }

    @Test func streamStatusIsAnEventNotAStoredChange() throws {
        var fixture = try ModelFixture.connected(["a"])
        let outcome = try fixture.apply(.setStreamStatus("jazz", .playing))
        #expect(outcome.effects.events == [.streamUpdated("jazz")])
        #expect(outcome.effects.store.isEmpty)
    }
}
