import Foundation
import NIOCore
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport
import TuttiTiming
import TuttiWire

/// Tutti's time channel: Time requests as datagrams of their own on the stream port, answered
/// only for the tokens of open Tutti connections, and speakers that use it — or, where UDP does
/// not get through, fall back to their stream connection and say so.
@Suite(.serialized)
struct TimeChannelTests {
    /// ServerSettings from a raw connection's first frames.
    static func settings(_ speaker: RawSpeaker) throws -> ServerSettings {
        let frames = try speaker.readFrames(seconds: 3) { $0.contains { $0.message.type == .serverSettings } }
        return try #require(frames.compactMap { if case .serverSettings(let s) = $0.message { s } else { nil } }.first)
    }

    /// Sends a request and returns the reply and the instant it was read, or nil if none came.
    static func ask(_ socket: BlockingDatagramSocket, id: UInt16, token: UInt64, seconds: Double = 0.3) -> (TimeDatagram, Nanos)? {
        socket.send(Array(TimeDatagram.request(id: id, token: token, sent: MonotonicClock().now()).encoded().readableBytesView))
        guard let bytes = socket.receive(seconds: seconds) else { return nil }
        let readAt = MonotonicClock().now()
        return (try? TimeDatagram.decode(ByteBuffer(bytes: bytes))).map { ($0, readAt) }
    }

    @Test func theChannelAnswersTheTokensOfOpenTuttiConnectionsOnly() async throws {
        try await withServerPorts { ports, _ in
            let tutti = try RawSpeaker(port: ports.stream)
            tutti.hello(id: "tutti", capabilities: ["status", TimeDatagram.capability])
            let snapclient = try RawSpeaker(port: ports.stream)
            snapclient.hello(id: "snapclient")
            let token = try #require(try Self.settings(tutti).timeToken, "a Tutti speaker that can use the channel gets a token")
            #expect(try Self.settings(snapclient).timeToken == nil, "a snapclient is not sent Tutti's keys")

            let socket = try BlockingDatagramSocket(port: ports.stream)
            let sentAt = MonotonicClock().now()
            let (reply, readAt) = try #require(Self.ask(socket, id: 7, token: token, seconds: 2), "no reply on the time channel")
            #expect(reply.kind == .reply && reply.id == 7 && reply.token == token)
            // The in-process server reads the same monotonic clock: t1 ≤ t2 ≤ t3 ≤ t4.
            #expect(sentAt <= reply.clientSent && reply.clientSent <= reply.serverReceived, "t1 \(reply.clientSent) t2 \(reply.serverReceived)")
            #expect(reply.serverReceived <= reply.serverSent && reply.serverSent <= readAt, "t2 \(reply.serverReceived) t3 \(reply.serverSent) t4 \(readAt)")

            // What is not a request of an open connection gets nothing, and spoils nothing.
            #expect(Self.ask(socket, id: 8, token: token &+ 1) == nil, "an unknown token is answered")
            socket.send([1, 2, 3, 4, 5, 6, 7])
            socket.send(Array(TimeDatagram(kind: .reply, id: 9, token: token, clientSent: 1).encoded().readableBytesView))
            #expect(socket.receive(seconds: 0.3) == nil, "garbage or a reply is answered")
            #expect(Self.ask(socket, id: 10, token: token, seconds: 2)?.0.id == 10, "the channel stopped answering after bad datagrams")

            // Once the connection is gone, so is its token.
            tutti.closeNow()
            let revoked = waitUntil(seconds: 3) { Self.ask(socket, id: 11, token: token, seconds: 0.2) == nil }
            #expect(revoked, "a closed connection's token is still answered")
        }
    }

    /// Two real speakers behind the jitter proxy, one of them on a network that drops UDP: both
    /// lock and play; one syncs over the channel, the other falls back and the status says so.
    @Test(.enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
    func aSpeakerUsesTheChannelAndOneWhoseUDPIsBlockedFallsBackToItsConnection() async throws {
        try await withServerPorts(sources: ["tone://?name=default&kind=music&codec=pcm"]) { ports, _ in
            let model = JitterModel(baseMilliseconds: 0.5, meanJitterMilliseconds: 1, spikeProbability: 0, spikeMilliseconds: 0)
            let open = try JitterProxy(upstreamPort: ports.stream, model: model, seed: 1)
            let blocked = try JitterProxy(upstreamPort: ports.stream, model: model, seed: 2, relayDatagrams: false)
            defer {
                open.stop()
                blocked.stop()
            }
            let speakers = try [("open", open), ("blocked", blocked)].map { id, proxy in
                try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(proxy.port)", "--id", id, "--output", "null"])
            }
            defer { speakers.forEach { $0.stop() } }
            let rpc = try RPCClient(port: ports.control)
            var sync: [String: JSON] = [:]
            // The blocked one gives the channel up 3 s after it opened.
            let settled = waitUntil(seconds: 15) {
                let status = (try? rpc.result("Server.GetStatus")) ?? .null
                for client in ControlAPIServerTests.clients(status) { sync[client["id"]?.stringValue ?? ""] = client["sync"] }
                return sync["open"]?["timeChannel"] == "datagram" && sync["blocked"]?["timeChannel"] == "stream"
                    && sync["blocked"]?["locked"] == true
            }
            #expect(settled, "open: \(sync["open"]?.text ?? "–"), blocked: \(sync["blocked"]?.text ?? "–")")
            #expect(sync["open"]?["locked"] == true)
            #expect(speakers[1].errorText.contains("no replies on the time channel"), "the fallback is not logged")
        }
    }
}
