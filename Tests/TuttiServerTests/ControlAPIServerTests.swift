import Foundation
import NIOCore
import Testing
import TuttiControl
import TuttiServer
import TuttiTestSupport
import TuttiWire
import TuttiAudio

/// The control API of a running server, through its JSON-RPC TCP port, with raw speakers
/// that show what each change makes the server send them.
@Suite(.serialized) struct ControlAPIServerTests {
    static let twoStreams = ["tone://?name=default&freq=440&codec=pcm", "tone://?name=jazz&freq=220&sampleformat=44100:16:1&codec=pcm"]

    /// Waits until the server lists these speakers as connected.
    static func waitForSpeakers(_ ids: Set<String>, _ rpc: RPCClient, seconds: Double = 5) throws -> JSON {
        var status: JSON = .null
        let found = waitUntil(seconds: seconds) {
            status = (try? rpc.result("Server.GetStatus")) ?? .null
            return ids.isSubset(of: Set(Self.clients(status).filter { $0["connected"] == true }.compactMap { $0["id"]?.stringValue }))
        }
        try #require(found, "speakers \(ids) not connected: \(status.text)")
        return status
    }

    static func clients(_ status: JSON) -> [JSON] {
        (status["server"]?["groups"]?.arrayValue ?? []).flatMap { $0["clients"]?.arrayValue ?? [] }
    }

    static func groupID(of speaker: String, _ status: JSON) -> String? {
        status["server"]?["groups"]?.arrayValue?.first { group in
            group["clients"]?.arrayValue?.contains { $0["id"] == .string(speaker) } == true
        }?["id"]?.stringValue
    }

    @Test func volumeReachesTheSpeakerAndOtherClientsHearOfIt() async throws {
        try await withServerPorts { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "kitchen")
            _ = try speaker.readFrames(seconds: 2) { $0.chunkTimestamps.count >= 2 }
            let caller = try RPCClient(port: ports.control)
            let listener = try RPCClient(port: ports.control)
            _ = try Self.waitForSpeakers(["kitchen"], caller)
            _ = try listener.result("Server.GetStatus")
            let result = try caller.result("Client.SetVolume", ["id": "kitchen", "volume": ["percent": 40, "muted": false]])
            #expect(result == ["volume": ["muted": false, "percent": 40]])
            let frames = try speaker.readFrames(seconds: 2) { $0.contains { $0.message.type == .serverSettings } }
            let settings = frames.compactMap { if case .serverSettings(let s) = $0.message { s } else { nil } }.last
            #expect(settings?.volume == 40)
            let note = listener.notification("Client.OnVolumeChanged")
            #expect(note?["params"] == ["id": "kitchen", "volume": ["muted": false, "percent": 40]])
            #expect(caller.notification("Client.OnVolumeChanged", within: 0.3) == nil, "the caller gets the response, not the notification")
            // Every line ends in \r\n, with nothing empty between.
            #expect(listener.lines.allSatisfy { !$0.isEmpty })
        }
    }

    @Test func aSpeakerMovedToAnotherStreamGetsItsCodecHeaderAndBacklogAtOnce() async throws {
        try await withServerPorts(sources: Self.twoStreams) { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "den")
            _ = try speaker.readFrames(seconds: 2) { $0.chunkTimestamps.count >= 2 }
            try await Task.sleep(for: .milliseconds(1200))  // the jazz stream has a full buffer of backlog now
            let rpc = try RPCClient(port: ports.control)
            let group = try #require(Self.groupID(of: "den", try Self.waitForSpeakers(["den"], rpc)))
            _ = try speaker.readFrames(seconds: 0.2)
            #expect(try rpc.result("Group.SetStream", ["id": .string(group), "stream_id": "jazz"]) == ["stream_id": "jazz"])
            let frames = try speaker.readFrames(seconds: 0.5) { frames in
                guard let header = frames.firstIndex(where: { $0.message.type == .codecHeader }) else { return false }
                return Array(frames[header...]).chunkTimestamps.count >= 40
            }
            let header = try #require(frames.firstIndex { $0.message.type == .codecHeader })
            guard case .codecHeader(let codec) = frames[header].message else { return }
            #expect(codec.payload.getInteger(at: 24, endianness: .little, as: UInt32.self) == 44_100)
            let backlog = Array(frames[header...]).chunkTimestamps
            #expect(backlog.count >= 40, "still-playable chunks of the new stream arrive at once, got \(backlog.count)")
        }
    }

    @Test func anUnmutedSpeakerGetsThePlayableBacklogAtOnce() async throws {
        try await withServerPorts { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "patio")
            let rpc = try RPCClient(port: ports.control)
            _ = try Self.waitForSpeakers(["patio"], rpc)
            _ = try rpc.result("Client.SetVolume", ["id": "patio", "volume": ["muted": true]])
            try await Task.sleep(for: .milliseconds(1100))
            let muted = try speaker.readFrames(seconds: 0.3)
            let mutedAt = try #require(muted.lastIndex { if case .serverSettings(let settings) = $0.message { settings.muted } else { false } })
            #expect(Array(muted[(mutedAt + 1)...]).chunkTimestamps.isEmpty, "no audio after the muting ServerSettings")
            _ = try rpc.result("Client.SetVolume", ["id": "patio", "volume": ["muted": false]])
            let frames = try speaker.readFrames(seconds: 0.4) { $0.chunkTimestamps.count >= 40 }
            #expect(frames.chunkTimestamps.count >= 40, "got \(frames.chunkTimestamps.count) chunks after unmuting")
        }
    }

    @Test func aSecondConnectionWithTheSameIDReplacesTheFirst() async throws {
        try await withServerPorts { ports, log in
            let first = try RawSpeaker(port: ports.stream)
            first.hello(id: "twin")
            _ = try first.readFrames(seconds: 2) { $0.chunkTimestamps.count >= 1 }
            let second = try RawSpeaker(port: ports.stream)
            second.hello(id: "twin")
            let frames = try second.readFrames(seconds: 2) { $0.chunkTimestamps.count >= 2 }
            #expect(frames.first?.message.type == .serverSettings)
            #expect(first.waitForClose(seconds: 2))
            #expect(log.contains("connected again"))
            let rpc = try RPCClient(port: ports.control)
            let status = try Self.waitForSpeakers(["twin"], rpc)
            #expect(Self.clients(status).count == 1)
            // The old connection's end does not mark the speaker disconnected.
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.clients(try rpc.result("Server.GetStatus")).first?["connected"] == true)
        }
    }

    @Test func badRequestsGetErrorObjectsAndHarmNobody() async throws {
        try await withServerPorts(configure: { $0.controlTimeoutSeconds = 1 }) { ports, _ in
            let good = try RPCClient(port: ports.control)
            _ = try good.result("Server.GetStatus")
            let bad = try RPCClient(port: ports.control)
            bad.sendLine("{this is not json")
            #expect(try bad.nextResponse()?["error"]?["code"] == -32700)
            bad.sendLine(#"{"jsonrpc":"2.0","id":7,"method":"Client.Explode","params":{}}"#)
            #expect(try bad.response(id: 7)["error"]?["code"] == -32601)
            bad.sendLine(#"{"jsonrpc":"2.0","id":8,"method":"Client.SetLatency","params":{"id":"x","latency":"soon"}}"#)
            #expect(try bad.response(id: 8)["error"]?["code"] == -32602)
            bad.sendLine(#"[{"jsonrpc":"2.0","id":9,"method":"Server.GetRPCVersion"},{"jsonrpc":"2.0","method":"Server.GetStatus"},17]"#)
            let batch = try #require(try bad.nextResponse()?.arrayValue)
            #expect(batch.count == 2)
            #expect(batch.first?["result"]?["major"] == 2)
            #expect(batch.last?["error"]?["code"] == -32600)
            bad.sendLine(#"{"jsonrpc":"2.0","method":"Server.GetStatus"}"#)  // a notification: no answer
            #expect(try bad.nextResponse(within: 0.5) == nil)

            let huge = try RPCClient(port: ports.control)
            huge.sendRaw(Array(String(repeating: "x", count: 70_000).utf8))
            #expect(try huge.nextResponse()?["error"]?["code"] == -32002)
            #expect(huge.waitForClose(seconds: 2))

            let silent = try RPCClient(port: ports.control)
            #expect(silent.waitForClose(seconds: 3), "a client that sends nothing is timed out")
            let trickler = try RPCClient(port: ports.control)
            for byte in Array(#"{"jsonrpc":"2.0","id":1,"method":"Server.GetStatus"}"#.utf8).prefix(30) where !trickler.closedByPeer {
                trickler.sendRaw([byte])
                _ = trickler.waitForClose(seconds: 0.1)
            }
            #expect(trickler.waitForClose(seconds: 2), "a client that trickles is timed out")

            #expect(try good.result("Server.GetRPCVersion") == ["major": 2, "minor": 0, "patch": 0])
            #expect(!good.closedByPeer)
        }
    }

    @Test func outsideTrustedNetworksEveryCallNeedsTheToken() async throws {
        let token = "0123456789abcdef0123"
        try await withServerPorts(configure: { $0.trustLoopback = false; $0.token = token }) { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let refused = try rpc.call("Server.GetStatus")
            #expect(refused["error"]?["code"] == -32001)
            #expect(try rpc.call("Server.Authenticate", ["token": "wrong-wrong-wrong-wrong"])["error"]?["code"] == -32001)
            #expect(try rpc.result("Server.Authenticate", ["token": .string(token)]) == ["authenticated": true])
            #expect(try rpc.result("Server.GetStatus")["server"] != nil)
        }
    }

    @Test func stereoPairsGiveASnapclientAChannelVariantAndATuttiSpeakerItsChannel() async throws {
        try await withServerPorts(sources: ["tone://?name=default&kind=music&codec=pcm"]) { ports, _ in
            let left = try RawSpeaker(port: ports.stream)
            left.hello(id: "left-tutti", capabilities: ["channel", "status"])
            let right = try RawSpeaker(port: ports.stream)
            right.hello(id: "right-snapclient")
            let rpc = try RPCClient(port: ports.control)
            _ = try Self.waitForSpeakers(["left-tutti", "right-snapclient"], rpc)
            _ = try left.readFrames(seconds: 0.3)
            _ = try right.readFrames(seconds: 0.3)
            let pair = try rpc.result("Pair.Create", ["left": "left-tutti", "right": "right-snapclient", "name": "Living room"])
            #expect(pair["pair"]?["name"] == "Living room")
            let leftFrames = try left.readFrames(seconds: 1) { $0.contains { $0.message.type == .serverSettings } }
            let leftSettings = leftFrames.compactMap { if case .serverSettings(let s) = $0.message { s } else { nil } }.last
            #expect(leftSettings?.channel == "left")
            #expect(!leftFrames.contains { $0.message.type == .codecHeader }, "a speaker that picks its channel keeps its stream")
            let rightFrames = try right.readFrames(seconds: 1.5) { $0.chunkTimestamps.count >= 10 }
            #expect(rightFrames.contains { $0.message.type == .codecHeader }, "the snapclient is switched to the right-channel variant")
            let rightSettings = rightFrames.compactMap { if case .serverSettings(let s) = $0.message { s } else { nil } }.last
            #expect(rightSettings?.channel == nil, "a snapclient is not sent Tutti's keys")
            let header = try #require(rightFrames.firstIndex { $0.message.type == .codecHeader })
            let chunks = rightFrames[header...].compactMap { if case .wireChunk(let c) = $0.message { c.data } else { nil } }
            try #require(!chunks.isEmpty)
            var equal = 0
            var total = 0
            for var data in chunks {
                while let l = data.readInteger(endianness: .little, as: Int16.self), let r = data.readInteger(endianness: .little, as: Int16.self) {
                    total += 1
                    if l == r { equal += 1 }
                }
            }
            #expect(total > 0 && equal == total, "both channels carry the right channel: \(equal)/\(total)")
        }
    }
}

/// A flag set on one thread and read on another.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    func set(_ value: Bool) { lock.withLock { stored = value } }
    var value: Bool { lock.withLock { stored } }
}

/// Streams added and removed through the API, and what the API refuses to open.
@Suite(.serialized) struct StreamAPITests {
    @Test func addStreamOpensTCPAndMediaFilesButNoProgramsOrOtherPaths() async throws {
        let media = try TemporaryDirectory()
        defer { media.cleanup() }
        let wav = "\(media.path)/intro.wav"
        var header = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 48_000 * 4)
        header += [UInt8](repeating: 0, count: 48_000 * 4)
        try Data(header).write(to: URL(fileURLWithPath: wav))
        let mediaPath = media.path
        try await withServerPorts(configure: { $0.mediaDirectories = [mediaPath] }) { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "den")
            let rpc = try RPCClient(port: ports.control)
            let status = try ControlAPIServerTests.waitForSpeakers(["den"], rpc)
            let listener = try RPCClient(port: ports.control)
            _ = try listener.result("Server.GetStatus")

            let tcpPort = freePort()
            #expect(try rpc.result("Stream.AddStream", ["streamUri": .string("tcp://127.0.0.1:\(tcpPort)?name=ma&mode=server")]) == ["id": "ma"])
            #expect(listener.notification("Server.OnUpdate") != nil)
            #expect(try rpc.result("Stream.AddStream", ["streamUri": .string("file://\(wav)?name=intro&loop=true")]) == ["id": "intro"])
            for refused in ["process:///bin/sh?name=sh&params=-c%20id", "file:///etc/passwd?name=pw", "pipe:///etc/evil?name=evil", "file://\(mediaPath)/../escape.wav?name=esc"] {
                #expect(try rpc.call("Stream.AddStream", ["streamUri": .string(refused)])["error"]?["code"] == -32602, "\(refused) is refused")
            }
            #expect(try rpc.call("Stream.AddStream", ["streamUri": "tone://?name=ma"])["error"]?["code"] == -32004, "names are unique")

            // A speaker moved to the new stream plays what its producer sends.
            let group = try #require(ControlAPIServerTests.groupID(of: "den", status))
            _ = try rpc.result("Group.SetStream", ["id": .string(group), "stream_id": "ma"])
            let producer = try BlockingSocket(port: tcpPort)
            let pcm = (0..<9600).flatMap { n -> [UInt8] in withUnsafeBytes(of: Int16(truncatingIfNeeded: n * 37).littleEndian) { Array($0) + Array($0) } }
            for _ in 0..<10 { producer.send(pcm) }
            let frames = try speaker.readFrames(seconds: 3) { $0.chunkTimestamps.count >= 20 }
            #expect(frames.chunkTimestamps.count >= 20, "the speaker plays the TCP stream")
            #expect(listener.notification("Stream.OnUpdate", within: 3) { $0["stream"]?["status"] == "playing" } != nil)

            // Removing it sends its speakers back to the default stream.
            #expect(try rpc.result("Stream.RemoveStream", ["id": "ma"]) == ["id": "ma"])
            let after = try rpc.result("Server.GetStatus")
            #expect(after["server"]?["groups"]?.arrayValue?.first?["stream_id"] == "default")
            #expect(try rpc.call("Stream.RemoveStream", ["id": "default"])["error"]?["code"] == -32004)
        }
    }

    @Test func aClientThatReadsNothingIsDroppedWithoutHoldingUpTheOthers() async throws {
        try await withServerPorts { ports, log in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "den")
            let rpc = try RPCClient(port: ports.control)
            _ = try ControlAPIServerTests.waitForSpeakers(["den"], rpc)
            let listener = try RPCClient(port: ports.control)
            _ = try listener.result("Server.GetStatus")
            // A client that asks once, then never reads again, with a tiny receive buffer.
            let stuck = try BlockingSocket(port: ports.control, receiveBufferSize: 1024)
            stuck.send(Array(#"{"jsonrpc":"2.0","id":1,"method":"Server.GetStatus"}"#.utf8 + [13, 10]))
            try await Task.sleep(for: .milliseconds(200))
            // Names long enough that the notifications pass the kernel's socket buffers and the
            // server's 1 MiB quickly.
            let long = String(repeating: "n", count: 16_000)
            // The listener reads as notifications come, on a thread of its own (blocking reads
            // must not take the in-process server's concurrency threads).
            let heard = ResultBox()
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                heard.set(listener.notification("Client.OnNameChanged", within: 30) { $0["name"] == .string("\(long)399") } != nil)
                done.signal()
            }
            for index in 0..<400 {
                _ = try rpc.result("Client.SetName", ["id": "den", "name": .string("\(long)\(index)")])
            }
            done.wait()
            #expect(heard.value, "the listener heard every change")
            #expect(log.contains("unread"), "the stuck client was dropped")
        }
    }
}
