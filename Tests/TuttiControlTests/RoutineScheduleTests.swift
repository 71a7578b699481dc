import Foundation
import Testing
@testable import TuttiControl

@Suite struct RoutineScheduleTests {
    let berlin = RoutineSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!)

    func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aTimeOfDayFollowsTheLocalClockAcrossDaylightSaving() {
        let seven = TimeTrigger(hour: 7, minute: 0)
        // CET (UTC+1) on the 28th of March 2026, CEST (UTC+2) from the 29th.
        #expect(berlin.next(seven, after: utc("2026-03-28T05:00:00Z")) == utc("2026-03-28T06:00:00Z"))
        #expect(berlin.next(seven, after: utc("2026-03-28T06:00:00Z")) == utc("2026-03-29T05:00:00Z"))
        // And back to CET on the 25th of October.
        #expect(berlin.next(seven, after: utc("2026-10-24T12:00:00Z")) == utc("2026-10-25T06:00:00Z"))
    }

    @Test func aTimeInTheSpringGapRunsWhenTheClocksHaveJumped() {
        // 02:30 does not exist in Berlin on 2026-03-29: it runs at 03:30 CEST.
        #expect(berlin.next(TimeTrigger(hour: 2, minute: 30), after: utc("2026-03-28T12:00:00Z")) == utc("2026-03-29T01:30:00Z"))
    }

    @Test func aTimeThatComesTwiceInAutumnRunsOnce() {
        let half = TimeTrigger(hour: 2, minute: 30)
        let first = berlin.next(half, after: utc("2026-10-24T12:00:00Z"))
        #expect(first == utc("2026-10-25T00:30:00Z"))  // 02:30 CEST
        // Not again at 02:30 CET an hour later: the next run is the next day's.
        #expect(berlin.next(half, after: first!) == utc("2026-10-26T01:30:00Z"))
    }

    @Test func weekdaysAreKept() {
        let mondays = TimeTrigger(hour: 8, minute: 15, weekdays: [2])
        // 2026-12-02 is a Wednesday; the next Monday is the 7th (CET).
        #expect(berlin.next(mondays, after: utc("2026-12-02T10:00:00Z")) == utc("2026-12-07T07:15:00Z"))
    }

    @Test func aRoutineIsDueOnceHoweverManyOfItsTimesPassed() {
        let routine = Routine(id: "r", name: "R", actions: [.wait(seconds: 0)], times: [TimeTrigger(hour: 7, minute: 0), TimeTrigger(hour: 8, minute: 0)])
        let idle = Routine(id: "off", name: "Off", actions: [.wait(seconds: 0)], times: [TimeTrigger(hour: 7, minute: 0)], enabled: false)
        let due = berlin.due(after: utc("2026-12-01T00:00:00Z"), through: utc("2026-12-04T00:00:00Z"), in: [routine, idle])
        #expect(due.map(\.id) == ["r"])
        #expect(berlin.due(after: utc("2026-12-02T06:00:00Z"), through: utc("2026-12-02T06:59:59Z"), in: [routine]).isEmpty)
        #expect(berlin.next(after: utc("2026-12-02T06:30:00Z"), in: [routine, idle]) == utc("2026-12-02T07:00:00Z"))
    }
}

@Suite struct RoutineModelTests {
    @Test func routinesAreValidatedStoredAndAnnounced() throws {
        var fixture = try confusableHouse()
        let outcome = try fixture.apply(.putRoutine(Routine(id: "", name: " Movie night ", aliases: ["cinema", " "], actions: [.mute(target: "kitchen", muted: true)])))
        guard case .savedRoutine(let id) = outcome.result else { Issue.record("\(outcome.result)"); return }
        #expect(fixture.model.routines.map(\.name) == ["Movie night"])
        #expect(fixture.model.routines[0].aliases == ["cinema"])
        #expect(outcome.effects.events == [.routinesChanged])
        #expect(fixture.stored.routines.map(\.id) == [id])

        #expect(throws: ControlError.self) { try fixture.apply(.putRoutine(Routine(id: "", name: "Cinema", actions: [.wait(seconds: 1)]))) }
        #expect(throws: ControlError.self) { try fixture.apply(.putRoutine(Routine(id: "", name: "Empty", actions: []))) }
        #expect(throws: ControlError.self) { try fixture.apply(.putRoutine(Routine(id: "", name: "!!", actions: [.wait(seconds: 1)]))) }
        #expect(throws: ControlError.self) { try fixture.apply(.putRoutine(Routine(id: "", name: "Long", actions: [.wait(seconds: 7200)]))) }
        #expect(throws: ControlError.self) {
            try fixture.apply(.putRoutine(Routine(id: "", name: "Late", actions: [.wait(seconds: 1)], times: [TimeTrigger(hour: 24, minute: 0)])))
        }
        try fixture.apply(.deleteRoutine(id))
        #expect(fixture.model.routines.isEmpty)
        #expect(fixture.stored.routines.isEmpty)
    }

    @Test func eventTriggersFireOnTheirSpeakerOrStream() throws {
        var fixture = try confusableHouse()
        try fixture.apply(.putRoutine(Routine(
            id: "", name: "Patio on", actions: [.setVolume(target: "patio", percent: 20)], events: [EventTrigger(.speakerConnected, subject: "the patio")])))
        try fixture.apply(.putRoutine(Routine(
            id: "", name: "Radio", actions: [.setVolume(target: "kitchen", percent: 20)], events: [EventTrigger(.streamStarted, subject: "radio")])))
        let before = fixture.model
        try fixture.apply(.speakerDisconnected(id: "patio"))
        #expect(before.routines(triggeredBy: ObservedEvent.changes(from: before, to: fixture.model)).isEmpty)
        let disconnected = fixture.model
        try fixture.connect("patio")
        #expect(fixture.model.routines(triggeredBy: ObservedEvent.changes(from: disconnected, to: fixture.model)).map(\.name) == ["Patio on"])
        let idle = fixture.model
        try fixture.apply(.setStreamStatus("kitchen radio", .playing))
        #expect(fixture.model.routines(triggeredBy: ObservedEvent.changes(from: idle, to: fixture.model)).map(\.name) == ["Radio"])
        let playing = fixture.model
        try fixture.apply(.setStreamStatus("jazz", .playing))
        #expect(fixture.model.routines(triggeredBy: ObservedEvent.changes(from: playing, to: fixture.model)).isEmpty)
    }

    @Test func routinesSurviveTheStoreRoundTrip() throws {
        var fixture = try confusableHouse()
        let routine = Routine(
            id: "", name: "Morning", aliases: ["wake up"], actions: [.play(stream: "jazz", target: "kitchen"), .wait(seconds: 1.5), .changeVolume(target: "kitchen", by: -5)],
            times: [TimeTrigger(hour: 7, minute: 5, weekdays: [2, 3, 4, 5, 6])], events: [EventTrigger(.speakerConnected, subject: "kitchen")], enabled: false)
        try fixture.apply(.putRoutine(routine))
        let stored = fixture.model.routines[0]
        let reread = try Routine(id: stored.id, params: try RPCParams(stored.json), base: nil, model: nil)
        #expect(reread == stored)
        let restored = SystemModel(restoring: fixture.stored, configuredStreams: fixture.model.streams, newID: { "x" })
        #expect(restored.routines == fixture.model.routines)
    }
}
