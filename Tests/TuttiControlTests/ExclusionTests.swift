import Testing
@testable import TuttiControl

/// Speakers a host reports as not playing, and every speaker's play state.
@Suite struct ExclusionTests {
    @Test func aHostsReportMarksItsSpeakersAddsUnknownOnesAndClearsWhatItNoLongerSays() throws {
        var fixture = try ModelFixture.connected(["box", "AA:01"])
        let report = try fixture.apply(.hostReportedExclusions(host: "box", [
            ExcludedSpeaker(id: "AA:01", name: "JBL", code: "no-sink", message: "no sink"),
            ExcludedSpeaker(id: "AA:05", name: "Far Away", code: "out-of-range", message: "did not answer"),
        ]))
        // The one it never saw is listed (disconnected, in a group of its own), not missing.
        let far = try #require(fixture.model.speaker("AA:05"))
        #expect(!far.connected && far.host.name == "Far Away" && fixture.members(of: "AA:05") == ["AA:05"])
        #expect(fixture.model.playState(of: far) == PlayState(state: .excluded, code: "out-of-range", reason: "did not answer"))
        #expect(report.effects.events.contains(.speakerExclusionChanged("AA:01")))
        #expect(report.effects.events.contains(.structureChanged))
        // Exclusions are live: never stored.
        #expect(fixture.stored.speakers.allSatisfy { $0.exclusion == nil })

        // The next report replaces the last; another host's report leaves these alone.
        try fixture.apply(.hostReportedExclusions(host: "other", []))
        #expect(fixture.model.speaker("AA:01")?.exclusion?.code == "no-sink")
        let cleared = try fixture.apply(.hostReportedExclusions(host: "box", []))
        #expect(fixture.model.speaker("AA:01")?.exclusion == nil && fixture.model.speaker("AA:05")?.exclusion == nil)
        #expect(cleared.effects.events == [.speakerExclusionChanged("AA:01"), .speakerExclusionChanged("AA:05")])
        #expect(fixture.model.playState(of: fixture.model.speaker("AA:05")!).state == .offline)
    }

    @Test func thePlayStateSaysWhyASpeakerIsSilent() throws {
        var fixture = try ModelFixture.connected(["a", "b"])
        try fixture.apply(.setStreamStatus("default", .playing))
        let a = { fixture.model.playState(of: fixture.model.speaker("a")!) }
        #expect(a().state == .playing && a().reason == "plays default")
        try fixture.apply(.setVolume(speaker: "a", percent: 0, muted: nil))
        #expect(a().code == "volume-zero")
        try fixture.apply(.setVolume(speaker: "a", percent: 40, muted: true))
        #expect(a().code == "muted")
        try fixture.apply(.setGroupMute(group: try #require(fixture.groupID(of: "a")), muted: true))
        #expect(a().code == "group-muted")
        try fixture.apply(.setStreamStatus("default", .idle))
        try fixture.apply(.setGroupMute(group: try #require(fixture.groupID(of: "a")), muted: false))
        try fixture.apply(.setVolume(speaker: "a", percent: nil, muted: false))
        #expect(a().code == "stream-idle")
        try fixture.apply(.speakerDisconnected(id: "a"))
        #expect(a() == PlayState(state: .offline, code: "disconnected", reason: "not connected to the server"))
    }
}
