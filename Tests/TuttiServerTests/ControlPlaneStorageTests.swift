import Logging
import NIOCore
import NIOPosix
import Testing
import TuttiControl
@testable import TuttiServer
import TuttiTiming

/// The control plane when its store fails (a full disk, an I/O error): a user's change is
/// refused with a JSON-RPC error and changes nothing; a speaker's own report still takes
/// effect and is written with the next save that succeeds.
@Suite struct ControlPlaneStorageTests {
    /// A client that keeps what it is sent.
    final class Recorder: ControlClient, @unchecked Sendable {
        var sent: [String] = []
        func send(_ text: String) { sent.append(text) }
        func disconnect(reason: String) {}
    }

    func withControlPlane(_ body: (ControlPlane, MemoryStateStore) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var loops = group.makeIterator()
        let (audio, control) = (loops.next()!, loops.next()!)
        let logger = Logger(label: "test")
        let core = ServerCore(eventLoop: audio, bufferMs: 1000, clock: MonotonicClock(), logger: logger)
        var model = SystemModel(streams: [StreamInfo(id: "default", uri: "tone://?name=default")])
        model.seed([SpeakerSeed(id: "kitchen", volume: 50)], newID: { "g1" })
        let store = MemoryStateStore(model.persistent)
        let plane = ControlPlane(
            eventLoop: control, model: model, store: store, stored: model.persistent, api: ControlAPI(),
            access: AccessPolicy(token: "0123456789abcdef", trustedNetworks: []), core: core,
            streams: StreamHost(open: { _, _ throws(RPCError) in throw .notSupported("no streams here") }, close: { _ in }),
            metrics: ServerMetrics(), logger: logger)
        try await body(plane, store)
        try await group.shutdownGracefully()
    }

    @Test func aUserChangeThatCannotBeStoredIsRefusedAndChangesNothing() async throws {
        try await withControlPlane { plane, store in
            let client = Recorder()
            await plane.register(client, trusted: true)
            store.failSaves(with: .full(path: "/data/tutti.sqlite"))
            let answer = await Self.call(plane, client, #"{"jsonrpc":"2.0","id":1,"method":"Client.SetVolume","params":{"id":"kitchen","volume":{"percent":90}}}"#)
            #expect(answer["error"]?["code"] == -32003)
            #expect(answer["error"]?["data"]?.stringValue?.contains("disk holding /data/tutti.sqlite is full") == true)
            #expect(await plane.model.speaker("kitchen")?.volume == 50)
            #expect(store.stored.speakers.first?.volume == 50)
        }
    }

    @Test func aSpeakersOwnChangeTakesEffectAndIsStoredOnceTheStoreWorks() async throws {
        try await withControlPlane { plane, store in
            store.failSaves(with: .failed(path: "/data/tutti.sqlite", detail: "I/O error"))
            await plane.speakerEvent(.reported(id: "kitchen", volume: 20, muted: true))
            #expect(await plane.model.speaker("kitchen")?.volume == 20)
            #expect(store.stored.speakers.first?.volume == 50)
            store.failSaves(with: nil)
            let client = Recorder()
            await plane.register(client, trusted: true)
            let answer = await Self.call(plane, client, #"{"jsonrpc":"2.0","id":1,"method":"Client.SetLatency","params":{"id":"kitchen","latency":30}}"#)
            #expect(answer["result"] == ["latency": 30])
            let stored = try #require(store.stored.speakers.first)
            #expect(stored.volume == 20 && stored.muted && stored.latencyMs == 30)
        }
    }

    /// Speakers coming and going are stored in batches (200 at once wait for one disk write);
    /// a user's change in between is written at once, together with what was pending.
    @Test func speakersComingAndGoingAreStoredInBatchesAndAUsersChangeTakesThemAlong() async throws {
        try await withControlPlane { plane, store in
            for id in ["den", "hall"] {
                await plane.speakerEvent(.connected(SpeakerHello(id: id, host: HostInfo(name: id), software: SoftwareInfo(name: "Tutti"))))
            }
            #expect(await plane.model.speaker("den") != nil)
            #expect(!store.stored.speakers.contains { $0.id == "den" }, "stored at once, one write per speaker")
            try await Task.sleep(for: .milliseconds(400))
            #expect(Set(store.stored.speakers.map(\.id)) == ["kitchen", "den", "hall"])

            await plane.speakerEvent(.connected(SpeakerHello(id: "attic", host: HostInfo(name: "attic"), software: SoftwareInfo(name: "Tutti"))))
            let client = Recorder()
            await plane.register(client, trusted: true)
            let answer = await Self.call(plane, client, #"{"jsonrpc":"2.0","id":1,"method":"Client.SetVolume","params":{"id":"attic","volume":{"percent":30}}}"#)
            #expect(answer["error"] == nil)
            // On disk when the call returned: the user's volume and the speaker it belongs to.
            #expect(store.stored.speakers.first { $0.id == "attic" }?.volume == 30)
        }
    }

    static func call(_ plane: ControlPlane, _ client: Recorder, _ text: String) async -> JSON {
        let box = ResponseBox()
        await plane.handle(Array(text.utf8), from: client) { box.set($0) }
        return (try? JSON(parsing: box.value ?? "")) ?? .null
    }
}
