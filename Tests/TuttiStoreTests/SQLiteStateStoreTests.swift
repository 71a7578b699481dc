import Foundation
import GRDB
import Testing
import TuttiControl
@testable import TuttiStore

@Suite struct SQLiteStateStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var path: String { directory.appendingPathComponent("tutti.sqlite").path }

    /// A model with two groups, a pair, a stream added through the API, names, volumes,
    /// latencies, a channel, party mode on and routines — every kind of stored state.
    static func busyModel() throws -> (model: SystemModel, changes: [[StoreChange]]) {
        var model = SystemModel(streams: [StreamInfo(id: "default", uri: "tone://?name=default"), StreamInfo(id: "jazz", uri: "tone://?name=jazz")])
        var counter = 0
        var changes: [[StoreChange]] = []
        let commands: [Command] = [
            .speakerConnected(SpeakerHello(id: "a", host: HostInfo(name: "alpha", mac: "02:00:00:00:00:0a", ip: "10.0.0.1", os: "Linux", arch: "aarch64"), software: SoftwareInfo(name: "Tutti", version: "0.26.0"), capabilities: ["channel", "status"])),
            .speakerConnected(SpeakerHello(id: "b", host: HostInfo(name: "beta"), software: SoftwareInfo(name: "Snapclient", version: "0.26.0"))),
            .speakerConnected(SpeakerHello(id: "c#2", host: HostInfo(name: "gamma"), software: SoftwareInfo(name: "Snapclient", version: "0.26.0"), instance: 2)),
            .setName(speaker: "a", name: "Kitchen"),
            .setVolume(speaker: "b", percent: 37, muted: true),
            .setLatency(speaker: "c#2", microseconds: -25_250),
            .setTrim(speaker: "a", decibels: -4.5),
            .setChannel(speaker: "b", .mono),
            .addStream(StreamInfo(id: "ma", uri: "tcp://0.0.0.0:4953?name=ma&mode=server", origin: .api)),
            .createGroup(name: "Downstairs", speakers: ["b", "c#2"], stream: "ma"),
            .setChannel(speaker: "b", .stereo),
            .createPair(left: "b", right: "c#2", name: "Living room"),
            .setGroupMute(group: "g1", muted: true),
            .setPartyMode(on: true, stream: "jazz"),
            .speakerDisconnected(id: "b"),
            .putRoutine(Routine(
                id: "", name: "Morning", aliases: ["wake up"], actions: [.play(stream: "jazz", target: "kitchen"), .wait(seconds: 2.5)],
                times: [TimeTrigger(hour: 7, minute: 30, weekdays: [2, 6])], events: [EventTrigger(.speakerConnected, subject: "kitchen")])),
            .putRoutine(Routine(id: "r2", name: "Night", actions: [.party(on: false, stream: nil), .mute(target: "everywhere", muted: true)], enabled: false)),
        ]
        for command in commands {
            let (next, outcome) = try model.applying(command, at: WallTime(sec: 1_700_000_000 + counter, usec: 5)) {
                counter += 1
                return "g\(counter)"
            }
            model = next
            changes.append(outcome.effects.store)
        }
        return (model, changes)
    }

    @Test func whatIsSavedLoadsBackExactlyAfterReopening() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, changes) = try Self.busyModel()
        do {
            let store = try SQLiteStateStore(path: path)
            #expect(try store.load().firstStart)
            for change in changes { try store.save(change) }
        }
        let reopened = try SQLiteStateStore(path: path)
        let (state, firstStart) = try reopened.load()
        #expect(!firstStart)
        #expect(state == model.persistent)
        #expect(state.party != nil && state.pairs.count == 1 && state.streams.map(\.id) == ["ma"])
    }

    @Test func aSaveIsAllOrNothing() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        let group = SpeakerGroup(id: "g", streamID: "default", speakerIDs: ["a", "a"])  // duplicate member: violates the key
        #expect(throws: StoreError.self) {
            try store.save([.putSpeaker(Speaker(id: "a"), position: 0), .putGroup(group, position: 0)])
        }
        #expect(try store.load().state.isEmpty)
    }

    @Test func aFullDiskRefusesTheChangeAndKeepsWhatWasStored() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        try store.save([.putSpeaker(Speaker(id: "a", volume: 10), position: 0)])
        try store.limitSize(pages: 0)
        let big = Speaker(id: "b", name: String(repeating: "x", count: 200_000))
        #expect(throws: StoreError.full(path: path)) { try store.save([.putSpeaker(big, position: 1), .putSpeaker(Speaker(id: "a", volume: 90), position: 0)]) }
        let state = try store.load().state
        #expect(state.speakers.map(\.id) == ["a"])
        #expect(state.speakers.first?.volume == 10)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAlone() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteStateStore(path: path)
        } throws: { error in
            guard case .corrupt = error as? StoreError else { return false }
            return true
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aVersion2DatabaseKeepsItsLatenciesAsMicroseconds() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        // A store as Tutti wrote it before latencies were kept to the µs.
        let queue = try DatabaseQueue(path: path)
        try SQLiteStateStore.migrator.migrate(queue, upTo: "v2")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO speaker (id, position, name, volume, muted, latency_ms, channel, instance, host, software, capabilities,
                    last_seen_sec, last_seen_usec) VALUES ('jbl', 0, 'JBL', 40, 0, 180, 'stereo', 1,
                    '{"name":"jbl-host","mac":"","ip":"","os":"","arch":""}', '{"name":"Tutti","version":"0.26.0","protocolVersion":2}', '[]', 0, 0)
                """)
        }
        try queue.close()
        let store = try SQLiteStateStore(path: path)
        let speaker = try #require(try store.load().state.speakers.first)
        #expect(speaker.id == "jbl" && speaker.latencyMicroseconds == 180_000 && speaker.volume == 40)
        // …and a finer one is kept as it is.
        var finer = speaker
        finer.latencyMicroseconds = 180_460
        try store.save([.putSpeaker(finer, position: 0)])
        #expect(try SQLiteStateStore(path: path).load().state.speakers.first?.latencyMicroseconds == 180_460)
    }

    @Test func aDatabaseFromANewerTuttiIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try SQLiteStateStore(path: path)
        // Record a migration this version does not know, as a newer version would.
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
        }
        #expect(throws: StoreError.newerVersion(path: path, unknownMigrations: ["v99-future"])) {
            _ = try SQLiteStateStore(path: path)
        }
    }
}
