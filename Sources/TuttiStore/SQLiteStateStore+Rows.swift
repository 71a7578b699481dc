import Foundation
import GRDB
import TuttiControl

extension SQLiteStateStore {
    static func write(_ change: StoreChange, _ db: Database) throws {
        switch change {
        case .putSpeaker(let speaker, let position):
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO speaker (id, position, name, volume, muted, latency_ms, latency_us, channel, trim_db, instance,
                        host, software, capabilities, last_seen_sec, last_seen_usec)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    speaker.id, position, speaker.name, speaker.volume, speaker.muted, speaker.latencyMs, speaker.latencyMicroseconds, speaker.channel.rawValue, speaker.trimDB,
                    speaker.instance, try encode(speaker.host), try encode(speaker.software), try encode(speaker.capabilities),
                    speaker.lastSeen.sec, speaker.lastSeen.usec,
                ])
        case .deleteSpeaker(let id):
            try db.execute(sql: "DELETE FROM speaker WHERE id = ?", arguments: [id])
        case .putGroup(let group, let position):
            try db.execute(sql: "DELETE FROM group_member WHERE group_id = ?", arguments: [group.id])
            try db.execute(
                sql: "INSERT OR REPLACE INTO speaker_group (id, position, name, stream_id, muted) VALUES (?, ?, ?, ?, ?)",
                arguments: [group.id, position, group.name, group.streamID, group.muted])
            for (index, member) in group.speakerIDs.enumerated() {
                try db.execute(
                    sql: "INSERT INTO group_member (group_id, speaker_id, position) VALUES (?, ?, ?)",
                    arguments: [group.id, member, index])
            }
        case .deleteGroup(let id):
            try db.execute(sql: "DELETE FROM group_member WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM speaker_group WHERE id = ?", arguments: [id])
        case .putPair(let pair):
            let position = try Int.fetchOne(db, sql: "SELECT position FROM stereo_pair WHERE id = ?", arguments: [pair.id])
                ?? (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM stereo_pair") ?? 0)
            try db.execute(
                sql: "INSERT OR REPLACE INTO stereo_pair (id, position, name, left_id, right_id) VALUES (?, ?, ?, ?, ?)",
                arguments: [pair.id, position, pair.name, pair.left, pair.right])
        case .deletePair(let id):
            try db.execute(sql: "DELETE FROM stereo_pair WHERE id = ?", arguments: [id])
        case .putStream(let stream):
            let position = try Int.fetchOne(db, sql: "SELECT position FROM stream WHERE id = ?", arguments: [stream.id])
                ?? (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM stream") ?? 0)
            try db.execute(
                sql: "INSERT OR REPLACE INTO stream (id, position, uri) VALUES (?, ?, ?)", arguments: [stream.id, position, stream.uri])
        case .deleteStream(let id):
            try db.execute(sql: "DELETE FROM stream WHERE id = ?", arguments: [id])
        case .putRoutine(let routine, let position):
            try db.execute(
                sql: "INSERT OR REPLACE INTO routine (id, position, body) VALUES (?, ?, ?)", arguments: [routine.id, position, routine.json.text])
        case .deleteRoutine(let id):
            try db.execute(sql: "DELETE FROM routine WHERE id = ?", arguments: [id])
        case .setParty(let party):
            try db.execute(sql: "DELETE FROM party")
            if let party {
                try db.execute(
                    sql: "INSERT INTO party (id, group_id, saved_groups) VALUES (1, ?, ?)",
                    arguments: [party.groupID, try encode(party.savedGroups)])
            }
        }
    }

    static func speaker(_ row: Row) throws -> Speaker {
        Speaker(
            id: row["id"], name: row["name"], host: try decode(HostInfo.self, row["host"]),
            software: try decode(SoftwareInfo.self, row["software"]), instance: row["instance"],
            lastSeen: WallTime(sec: row["last_seen_sec"], usec: row["last_seen_usec"]), volume: row["volume"], muted: row["muted"],
            latencyMicroseconds: row["latency_us"], channel: AudioChannel(rawValue: row["channel"]) ?? .stereo, trimDB: row["trim_db"],
            capabilities: try decode([String].self, row["capabilities"]))
    }

    static func routine(_ row: Row) throws -> Routine {
        let id: String = row["id"]
        do {
            let body = try JSON(parsing: (row["body"] as String))
            return try Routine(id: id, params: try RPCParams(body), base: nil, model: nil)
        } catch {
            throw StoreError.corrupt(path: "", detail: "stored routine \(id) does not read: \(error)")
        }
    }

    static func groups(_ db: Database) throws -> [SpeakerGroup] {
        var members: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT group_id, speaker_id FROM group_member ORDER BY group_id, position") {
            members[row["group_id"], default: []].append(row["speaker_id"])
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM speaker_group ORDER BY position, rowid").map { row in
            let id: String = row["id"]
            return SpeakerGroup(id: id, name: row["name"], streamID: row["stream_id"], muted: row["muted"], speakerIDs: members[id] ?? [])
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt(path: "", detail: "a stored \(type) does not decode: \(error)")
        }
    }
}
