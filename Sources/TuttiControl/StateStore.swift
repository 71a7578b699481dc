import Synchronization

/// Where the control plane keeps what users set. Writes are synchronous and durable when
/// `save` returns: the caller tells the user "done" only after that.
public protocol StateStore: Sendable {
    /// Everything stored, and whether this is the store's first use (nothing was ever saved
    /// in it, so the configuration file's speakers may seed it).
    func load() throws(StoreError) -> (state: PersistentState, firstStart: Bool)

    /// Writes the changes in one transaction: all of them, or (on error) none.
    func save(_ changes: [StoreChange]) throws(StoreError)
}

/// Why the store could not load or save. The message says what to do about it.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not a database, or is damaged.
    case corrupt(path: String, detail: String)
    /// The database was written by a newer Tutti, whose changes this one cannot read.
    case newerVersion(path: String, unknownMigrations: [String])
    /// The disk (or the database's size limit) is full.
    case full(path: String)
    /// Anything else the database reported (permissions, I/O errors).
    case failed(path: String, detail: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let detail):
            "the state database \(path) is damaged or not a Tutti database (\(detail)); nothing was changed — move it away to start with a fresh one"
        case .newerVersion(let path, let migrations):
            "the state database \(path) was written by a newer Tutti (it has \(migrations.joined(separator: ", "))); run that version, or move the file away to start fresh"
        case .full(let path):
            "the disk holding \(path) is full; the change was not stored"
        case .failed(let path, let detail):
            "the state database \(path) failed: \(detail)"
        }
    }
}

/// A store in memory, for tests and for servers run without a data directory.
public final class MemoryStateStore: StateStore {
    private let state: Mutex<(PersistentState, saved: Bool)>
    /// When set, every save fails with this error (to test how failures are handled).
    private let failure = Mutex<StoreError?>(nil)

    public init(_ initial: PersistentState = PersistentState()) {
        state = Mutex((initial, !initial.isEmpty))
    }

    public func load() throws(StoreError) -> (state: PersistentState, firstStart: Bool) {
        state.withLock { ($0.0, !$0.saved) }
    }

    public func save(_ changes: [StoreChange]) throws(StoreError) {
        if let error = failure.withLock({ $0 }) { throw error }
        state.withLock {
            $0.0.apply(changes)
            $0.saved = true
        }
    }

    /// Makes later saves fail (nil: succeed again).
    public func failSaves(with error: StoreError?) { failure.withLock { $0 = error } }

    /// What is stored now.
    public var stored: PersistentState { state.withLock { $0.0 } }
}
