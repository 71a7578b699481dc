import Foundation
import GRDB
import TuttiControl

/// The control plane's state in SQLite (`tutti.sqlite` in the data directory), through GRDB.
///
/// Durable: write-ahead log with `synchronous = FULL`, so a change is on disk when ``save(_:)``
/// returns and a crash (or SIGKILL, or power loss) at any moment leaves either the whole
/// change or none of it. Opening refuses, with a ``StoreError`` that says why, a file that is
/// not a database, is damaged, or was migrated by a newer Tutti — it never resets one.
public final class SQLiteStateStore: StateStore {
    public let path: String
    private let queue: DatabaseQueue
    private let firstStart: Bool

    /// Opens (creating if missing) the database at `path` and brings its schema up to date.
    public init(path: String) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let migrator = Self.migrator
            firstStart = try queue.write { db in
                let applied = try migrator.appliedIdentifiers(db)
                let unknown = applied.subtracting(migrator.migrations)
                if !unknown.isEmpty { throw StoreError.newerVersion(path: path, unknownMigrations: unknown.sorted()) }
                guard try db.tableExists("meta") else { return true }
                return try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'saved')") ?? false)
            }
            try migrator.migrate(queue)
            self.queue = queue
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Version 1: speakers, groups and their members, stereo pairs, streams added through the
    /// API, party mode, and a meta table.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE speaker (
                    id TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                    volume INTEGER NOT NULL, muted INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
                    channel TEXT NOT NULL, instance INTEGER NOT NULL, host TEXT NOT NULL, software TEXT NOT NULL,
                    capabilities TEXT NOT NULL, last_seen_sec INTEGER NOT NULL, last_seen_usec INTEGER NOT NULL);
                CREATE TABLE speaker_group (
                    id TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                    stream_id TEXT NOT NULL, muted INTEGER NOT NULL);
                CREATE TABLE group_member (
                    group_id TEXT NOT NULL REFERENCES speaker_group(id) ON DELETE CASCADE,
                    speaker_id TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (group_id, speaker_id));
                CREATE TABLE stereo_pair (
                    id TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                    left_id TEXT NOT NULL, right_id TEXT NOT NULL);
                CREATE TABLE stream (id TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL, uri TEXT NOT NULL);
                CREATE TABLE party (id INTEGER PRIMARY KEY CHECK (id = 1), group_id TEXT NOT NULL, saved_groups TEXT NOT NULL);
                """)
        }
        // Version 2: routines, each a JSON object (its actions and triggers, as the API shows them).
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "CREATE TABLE routine (id TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL)")
        }
        // Version 3: latencies to the µs (a calibration measures finer than whole ms);
        // latency_ms stays, rounded, for a reader of the file.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                ALTER TABLE speaker ADD COLUMN latency_us INTEGER NOT NULL DEFAULT 0;
                UPDATE speaker SET latency_us = latency_ms * 1000;
                """)
        }
        // Version 4: level trims under the user's volume (dB).
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "ALTER TABLE speaker ADD COLUMN trim_db REAL NOT NULL DEFAULT 0")
        }
        return migrator
    }

    public func load() throws(StoreError) -> (state: PersistentState, firstStart: Bool) {
        do {
            let state = try queue.read { db in
                PersistentState(
                    speakers: try Row.fetchAll(db, sql: "SELECT * FROM speaker ORDER BY position, rowid").map(Self.speaker),
                    groups: try Self.groups(db),
                    pairs: try Row.fetchAll(db, sql: "SELECT * FROM stereo_pair ORDER BY position, rowid").map {
                        StereoPair(id: $0["id"], name: $0["name"], left: $0["left_id"], right: $0["right_id"])
                    },
                    streams: try Row.fetchAll(db, sql: "SELECT * FROM stream ORDER BY position, rowid").map {
                        StreamInfo(id: $0["id"], uri: $0["uri"], origin: .api)
                    },
                    party: try Row.fetchOne(db, sql: "SELECT * FROM party WHERE id = 1").map { row in
                        PartyMode(groupID: row["group_id"], savedGroups: try Self.decode([SpeakerGroup].self, row["saved_groups"]))
                    },
                    routines: try Row.fetchAll(db, sql: "SELECT * FROM routine ORDER BY position, rowid").map(Self.routine))
            }
            return (state, firstStart)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    public func save(_ changes: [StoreChange]) throws(StoreError) {
        guard !changes.isEmpty else { return }
        do {
            try queue.write { db in
                for change in changes { try Self.write(change, db) }
                try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('saved', '1')")
            }
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Limits the database to `pages` pages, so that writes beyond it fail as on a full disk.
    /// For tests of the full-disk path; a real full disk fails the same way (SQLITE_FULL).
    public func limitSize(pages: Int) throws(StoreError) {
        do {
            try queue.writeWithoutTransaction { db in
                let current = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(max(pages, current))")
            }
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    static func storeError(_ error: any Error, path: String) -> StoreError {
        guard let error = error as? DatabaseError else { return .failed(path: path, detail: "\(error)") }
        switch error.resultCode {
        case .SQLITE_FULL: return .full(path: path)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        default: return .failed(path: path, detail: error.message ?? "\(error)")
        }
    }
}
