import Foundation
import Logging
import NIOCore
import TuttiControl
import TuttiSources
import TuttiTiming

/// The server's control plane: the system model, its store, the control API and the clients
/// that listen to it. Every change — a speaker connecting, a JSON-RPC call, a speaker reporting
/// its volume — is a ``Command`` applied here, one after another.
///
/// An actor whose executor is the control event loop, so the JSON-RPC TCP handlers on that loop
/// call it synchronously and SQLite writes never block the audio loop. A change is stored
/// (durably) before anyone hears of it: a call's response, notifications to other clients and
/// new settings for speakers all follow the save. A user's change that cannot be stored is
/// refused; a speaker's own report that cannot be stored still takes effect (it is live state)
/// and is stored with the next save that succeeds. Speakers coming and going, their sync and
/// their streams' play state are not anyone's setting: they are stored in batches, a tenth of
/// a second later, so that 200 speakers connecting at once wait for one disk write, not for
/// 200 in a row (each answer to a Hello used to wait for its own).
actor ControlPlane {
    nonisolated let eventLoop: any EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }
    private(set) var model: SystemModel
    private let store: any StateStore
    /// What the store holds while it is behind the model (a speaker's change failed to save),
    /// so that the next save writes that change too.
    private var stored: PersistentState
    private var storeBehind = false
    /// Whether a batched save of speakers' live state is due.
    /// The pending batched save, if any.
    private var flushTask: Task<Void, Never>?
    let api: ControlAPI
    let access: AccessPolicy
    let core: ServerCore
    let streamHost: StreamHost
    let logger: Logger
    /// The wall clock routines run by, and the time zone of their times of day.
    nonisolated let routineClock: any RoutineClock
    let schedule: RoutineSchedule
    var timerTask: Task<Void, Never>?
    /// The routines with times of day the timer runs, and when it last looked for due ones.
    var timedRoutines: [Routine] = []
    var timesCheckedAt: Date?
    private var clients: [ObjectIdentifier: ClientState] = [:]
    /// Requests relayed to speaker hosts, by the ID they were sent with, awaiting the answer.
    var hostCalls: [Int: (speaker: String, answer: CheckedContinuation<Result<JSON, RPCError>, Never>)] = [:]
    var nextHostCallID = 1
    /// Calibration runs by ID, and the speakers playing a run's bursts instead of their group's stream.
    var calibrations: [String: CalibrationRun] = [:]
    var calibrationOverrides: [String: SpeakerPlayback] = [:]
    private let metrics: ServerMetrics

    struct ClientState {
        let client: any ControlClient
        var authenticated: Bool
        var wantsSync = false
        /// Whether the client has had a response (only then does it get notifications).
        var answered = false
    }

    init(
        eventLoop: any EventLoop, model: SystemModel, store: any StateStore, stored: PersistentState, api: ControlAPI,
        access: AccessPolicy, core: ServerCore, streams: StreamHost, metrics: ServerMetrics, logger: Logger,
        routineClock: any RoutineClock = SystemRoutineClock(), timeZone: TimeZone = .current
    ) {
        self.routineClock = routineClock
        self.schedule = RoutineSchedule(timeZone: timeZone)
        self.eventLoop = eventLoop
        self.model = model
        self.store = store
        self.stored = stored
        self.api = api
        self.access = access
        self.core = core
        self.streamHost = streams
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Speakers

    /// An event from the streaming core, applied as a command.
    func speakerEvent(_ event: ServerCore.SpeakerEvent) {
        if case .hostAnswered(let id, let json) = event {
            hostAnswered(id, json)
            return
        }
        if case .disconnected(let id) = event { hostGone(id) }
        let command: Command =
            switch event {
            case .connected(let hello): .speakerConnected(hello)
            case .disconnected(let id): .speakerDisconnected(id: id)
            case .reported(let id, let volume, let muted): .speakerReported(id: id, volume: volume, muted: muted)
            case .status(let id, let status): .speakerSyncStatus(id: id, status)
            case .streamStatus(let id, let playing): .setStreamStatus(id, playing ? .playing : .idle)
            case .hostAnswered: preconditionFailure("handled above")
            }
        var live = true
        if case .reported = event { live = false }  // a volume a user set on the speaker's own host
        do {
            _ = try apply(command, origin: nil, refuseUnstored: false, batched: live)
        } catch {
            logger.error("\(command): \(error)")
        }
        if case .status(let id, let status) = event { metrics.record(speaker: id, status: status) }
        if case .disconnected(let id) = event { metrics.forget(speaker: id) }
    }

    // MARK: Applying

    /// Applies a command: stores it, adopts it, tells speakers and other clients.
    ///
    /// - Parameters:
    ///   - origin: the client whose call this is (it gets the response, not the notifications).
    ///   - refuseUnstored: true for users' changes, which are refused when they cannot be stored.
    ///   - batched: live state, stored with the next batch (``flushStore()``) rather than now.
    @discardableResult
    func apply(_ command: Command, origin: (any ControlClient)?, refuseUnstored: Bool = true, batched: Bool = false) throws(ControlError) -> Outcome {
        let (next, outcome) = try model.applying(command, at: WallTime(seconds: Date().timeIntervalSince1970)) {
            UUID().uuidString.lowercased()
        }
        // The model's own changes apply to what is stored, unless an earlier save failed: then
        // compare with what the store holds, so the failed change is written with this one.
        let changes = storeBehind ? StoreChange.changes(from: stored, to: next.persistent) : outcome.effects.store
        if batched, !changes.isEmpty {
            if !storeBehind { stored = model.persistent }
            storeBehind = true
            scheduleStoreFlush()
        } else if !changes.isEmpty {
            do {
                try store.save(changes)
                if storeBehind { stored = next.persistent }
                storeBehind = false
            } catch {
                if refuseUnstored { throw .storage(error.description) }
                if !storeBehind { stored = model.persistent }
                storeBehind = true
                logger.error("could not store a speaker's change (kept in memory, stored with the next save): \(error)")
            }
        }
        let previous = model
        model = next
        publish(outcome.effects, origin: origin)
        for removed in previous.streams.map(\.id) where next.stream(removed) == nil { streamHost.close(removed) }
        if case .speakerSyncStatus = command { return outcome }
        if outcome.effects.events.contains(.routinesChanged) { scheduleRoutineTimes() }
        runEventTriggers(from: previous, to: next)
        return outcome
    }

    private func scheduleStoreFlush() {
        guard flushTask == nil else { return }
        flushTask = Task {
            try? await Task.sleep(for: .milliseconds(100))
            guard !Task.isCancelled else { return }
            self.flushStore()
        }
    }

    /// The server is stopping: ends the pending batched save (a task that woke on a stopped
    /// event loop would be an error in SwiftNIO) and stores what is behind now.
    func stopAndFlushStore() async {
        flushTask?.cancel()
        await flushTask?.value
        flushStore()
    }

    /// Stores what the store is behind on (batched live state, or a change whose save failed);
    /// also when the server stops.
    func flushStore() {
        flushTask = nil
        guard storeBehind else { return }
        do {
            try store.save(StoreChange.changes(from: stored, to: model.persistent))
            stored = model.persistent
            storeBehind = false
        } catch {
            logger.error("could not store speakers' changes (kept in memory, stored with the next save): \(error)")
        }
    }

    private func publish(_ effects: Effects, origin: (any ControlClient)?) {
        // A speaker playing a calibration run's bursts goes back to its group's stream at the end.
        let playback = effects.playback.filter { calibrationOverrides[$0.key] == nil }
        if !playback.isEmpty {
            let core = self.core
            core.eventLoop.execute { core.assumeIsolated { $0.apply(playback) } }
        }
        for note in api.notifications(for: effects.events, in: model) { notify(note, except: origin) }
    }

    /// Sends a notification to every client that may hear it, but `origin` (which has its response).
    func notify(_ note: ControlAPI.Notification, except origin: (any ControlClient)?) {
        let text = note.json.text
        for (key, state) in clients where state.authenticated && state.answered && key != origin.map(ObjectIdentifier.init) {
            if note.audience == .syncSubscribers, !state.wantsSync { continue }
            state.client.send(text)
        }
    }

    // MARK: Control clients

    /// A control client connected; `trusted` clients need no token.
    func register(_ client: any ControlClient, trusted: Bool) {
        clients[ObjectIdentifier(client)] = ClientState(client: client, authenticated: trusted)
    }

    func unregister(_ client: any ControlClient) {
        clients[ObjectIdentifier(client)] = nil
    }

    /// Marks a client as holding the token (an HTTP/WebSocket client that sent it in a header).
    func authenticate(_ client: any ControlClient) {
        clients[ObjectIdentifier(client)]?.authenticated = true
    }

    func markAnswered(_ client: any ControlClient) {
        clients[ObjectIdentifier(client)]?.answered = true
    }

    func subscribe(_ client: any ControlClient, sync: Bool) {
        clients[ObjectIdentifier(client)]?.wantsSync = sync
    }

    func isAuthenticated(_ client: any ControlClient) -> Bool {
        clients[ObjectIdentifier(client)]?.authenticated ?? false
    }
}

/// Opens and closes the server's streams (sources, readers, encoders) on request of the
/// control plane: Stream.AddStream and Stream.RemoveStream, and the stored streams at start.
struct StreamHost: Sendable {
    /// The address a receiver stream (`tcp://HOST:0?mode=server`) listens on: the server's own.
    var receiverHost = "0.0.0.0"
    /// Checks a URI against the server's policy (and that its name is not among `taken`) and
    /// opens it as a running stream; returns its model entry, or throws the error to answer.
    var open: @Sendable (_ uri: String, _ taken: Set<String>) async throws(RPCError) -> StreamInfo
    /// Starts a calibration stream (not in the model) playing `source`; `onFirstChunk` gets the
    /// timestamp of its first frame.
    var openCalibration: @Sendable (_ id: String, _ source: CalibrationSource, _ onFirstChunk: @escaping @Sendable (Nanos) -> Void) async -> Void = { _, _, _ in }
    /// Stops a stream that the model no longer has.
    var close: @Sendable (_ id: String) -> Void
}
