import Testing
@testable import TuttiControl

@Suite struct SystemModelSpeakerTests {
    @Test func aNewSpeakerGetsAGroupOfItsOwnPlayingTheDefaultStream() throws {
        var fixture = ModelFixture()
        try fixture.connect("kitchen")
        let group = try #require(fixture.model.group(of: "kitchen"))
        #expect(group.speakerIDs == ["kitchen"])
        #expect(group.streamID == "default")
        let outcome = try #require(fixture.lastOutcome)
        #expect(outcome.effects.events.contains(.speakerConnected("kitchen")))
        #expect(outcome.effects.events.contains(.structureChanged))
        #expect(outcome.effects.playback["kitchen"] == SpeakerPlayback(streamID: "default", volume: 100, muted: false, latencyMicroseconds: 0, channel: .stereo))
        #expect(fixture.model.violations.isEmpty)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func aReturningSpeakerKeepsItsGroupAndSettings() throws {
        var fixture = try ModelFixture.connected(["kitchen", "patio"])
        try fixture.apply(.setGroupClients(group: try #require(fixture.groupID(of: "kitchen")), speakers: ["kitchen", "patio"]))
        try fixture.apply(.setVolume(speaker: "patio", percent: 30, muted: true))
        try fixture.apply(.speakerDisconnected(id: "patio"))
        #expect(fixture.lastOutcome?.effects.events == [.speakerDisconnected("patio")])
        #expect(fixture.lastOutcome?.effects.playback.isEmpty == true)
        try fixture.connect("patio")
        let patio = try #require(fixture.model.speaker("patio"))
        #expect(patio.volume == 30 && patio.muted && patio.connected)
        #expect(fixture.members(of: "patio") == ["kitchen", "patio"])
        #expect(fixture.lastOutcome?.effects.playback["patio"]?.muted == true)
        #expect(fixture.lastOutcome?.effects.events.contains(.structureChanged) == false)
    }

    @Test func volumeChangesReachOnlyTheSpeakerAndAreStored() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        let outcome = try fixture.apply(.setVolume(speaker: "a", percent: 42, muted: nil))
        #expect(outcome.effects.events == [.speakerVolumeChanged("a")])
        #expect(Array(outcome.effects.playback.keys) == ["a"])
        #expect(outcome.effects.playback["a"]?.volume == 42)
        #expect(fixture.stored.speakers.first { $0.id == "a" }?.volume == 42)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test(arguments: [-1, 101, 1000])
    func volumeOutsideTheRangeIsRefusedAndChangesNothing(volume: Int) throws {
        var fixture = try ModelFixture.connected(["a"])
        let before = fixture.model
        #expect(throws: ControlError.invalidValue("volume \(volume) is outside 0...100")) {
            try fixture.apply(.setVolume(speaker: "a", percent: volume, muted: nil))
        }
        #expect(fixture.model == before)
    }

    @Test func unknownSpeakersGroupsAndStreamsAreNamedInTheError() throws {
        var fixture = try ModelFixture.connected(["a"])
        #expect(throws: ControlError.unknownSpeaker("nope")) { try fixture.apply(.setLatency(speaker: "nope", microseconds: 10_000)) }
        #expect(throws: ControlError.unknownGroup("nope")) { try fixture.apply(.setGroupMute(group: "nope", muted: true)) }
        let group = try #require(fixture.groupID(of: "a"))
        #expect(throws: ControlError.unknownStream("nope")) { try fixture.apply(.setGroupStream(group: group, stream: "nope")) }
    }

    @Test func latencyAndNameAndChannelAreEachTheirOwnEvent() throws {
        var fixture = try ModelFixture.connected(["a"])
        #expect(try fixture.apply(.setLatency(speaker: "a", microseconds: 180_000)).effects.events == [.speakerLatencyChanged("a")])
        #expect(fixture.lastOutcome?.effects.playback["a"]?.latencyMicroseconds == 180_000)
        // Finer than whole ms (a calibration's correction): kept to the µs, rounded for Snapcast.
        #expect(try fixture.apply(.setLatency(speaker: "a", microseconds: 180_460)).effects.events == [.speakerLatencyChanged("a")])
        #expect(fixture.model.speaker("a")?.latencyMicroseconds == 180_460 && fixture.model.speaker("a")?.latencyMs == 180)
        #expect(try fixture.apply(.setLatency(speaker: "a", microseconds: -180_500)).effects.events == [.speakerLatencyChanged("a")])
        #expect(fixture.model.speaker("a")?.latencyMs == -181)
        #expect(try fixture.apply(.setTrim(speaker: "a", decibels: -3.216)).effects.events == [.speakerTrimChanged("a")])
        #expect(fixture.lastOutcome?.effects.playback["a"]?.trimDB == -3.22)
        #expect(throws: ControlError.self) { try fixture.apply(.setTrim(speaker: "a", decibels: 1)) }
        #expect(throws: ControlError.self) { try fixture.apply(.setTrim(speaker: "a", decibels: -41)) }
        #expect(fixture.model.speaker("a")?.trimDB == -3.22)
        #expect(try fixture.apply(.setName(speaker: "a", name: "Kitchen")).effects.events == [.speakerNameChanged("a")])
        #expect(fixture.lastOutcome?.effects.playback.isEmpty == true)  // a name does not change playback
        #expect(try fixture.apply(.setChannel(speaker: "a", .mono)).effects.events == [.speakerChannelChanged("a")])
        #expect(fixture.model.speaker("a")?.displayName == "Kitchen")
        #expect(throws: ControlError.self) { try fixture.apply(.setLatency(speaker: "a", microseconds: 10_000_001)) }
    }

    @Test func aSpeakerReportingItsOwnVolumeIsClampedAndStored() throws {
        var fixture = try ModelFixture.connected(["a"])
        try fixture.apply(.speakerReported(id: "a", volume: 130, muted: true))
        #expect(fixture.model.speaker("a")?.volume == 100)
        #expect(fixture.model.speaker("a")?.muted == true)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func syncReportsAreEventsButNeverStored() throws {
        var fixture = try ModelFixture.connected(["a"])
        let status = SyncStatus(locked: true, clockErrorMicroseconds: 4, ratePPM: 12.5, bufferMs: 900)
        let outcome = try fixture.apply(.speakerSyncStatus(id: "a", status))
        #expect(outcome.effects.events == [.speakerSyncChanged("a")])
        #expect(outcome.effects.store.isEmpty)
        #expect(fixture.model.speaker("a")?.sync == status)
        try fixture.apply(.speakerDisconnected(id: "a"))
        #expect(fixture.model.speaker("a")?.sync == nil)
    }

    @Test func aConnectedSpeakerCannotBeDeletedADisconnectedOneLeavesNoTrace() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        #expect(throws: ControlError.self) { try fixture.apply(.deleteSpeaker("a")) }
        try fixture.apply(.createPair(left: "a", right: "b", name: nil))
        try fixture.apply(.speakerDisconnected(id: "a"))
        try fixture.apply(.deleteSpeaker("a"))
        #expect(fixture.model.speaker("a") == nil)
        #expect(fixture.model.pairs.isEmpty)
        #expect(fixture.model.speaker("b")?.channel == .stereo)
        #expect(fixture.model.violations.isEmpty)
        #expect(fixture.stored == fixture.model.persistent)
    }

    @Test func aSecondConnectionOfAConnectedSpeakerGetsItsPlaybackAgain() throws {
        var fixture = try ModelFixture.connected(["a"])
        try fixture.connect("a")
        #expect(fixture.lastOutcome?.effects.playback["a"] != nil)
        #expect(fixture.lastOutcome?.effects.events.contains(.speakerConnected("a")) == false)
        #expect(fixture.model.speakers.count == 1)
    }
}
