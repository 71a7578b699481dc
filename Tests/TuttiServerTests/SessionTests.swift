import Foundation
import NIOCore
import Testing
import TuttiTestSupport
import TuttiServer
import TuttiWire

/// The server's side of the protocol, against raw speakers that send exact bytes.
@Suite(.serialized) struct SessionTests {
    @Test func handshakeOrderIsSettingsThenCodecHeaderThenChunks() async throws {
        try await withServer { port, _ in
            let speaker = try RawSpeaker(port: port)
            speaker.hello(id: "kitchen")
            let frames = try speaker.readFrames(seconds: 2) { $0.chunkTimestamps.count >= 3 }
            try #require(frames.count >= 5)
            guard case .serverSettings(let settings) = frames[0].message else { Issue.record("first: \(frames[0].message.type)"); return }
            #expect(frames[0].refersTo == 1)
            #expect(settings == ServerSettings(bufferMs: 1000, latency: 0, volume: 100, muted: false))
            guard case .codecHeader(let header) = frames[1].message else { Issue.record("second: \(frames[1].message.type)"); return }
            #expect(header.codec == "pcm")
            #expect(header.payload.readableBytes == 44)
            #expect(frames.dropFirst(2).allSatisfy { $0.message.type == .wireChunk })
        }
    }

    @Test func joiningAPlayingStreamGetsTheStillDueChunksAtOnce() async throws {
        try await withServer(bufferMs: 1000) { port, _ in
            try await Task.sleep(for: .milliseconds(1500))  // let the stream play past one buffer
            let speaker = try RawSpeaker(port: port)
            speaker.hello(id: "late")
            // Everything that is still playable arrives in the first burst: read until the
            // timestamps span most of a buffer, which a real-time trickle could not do so soon.
            let frames = try speaker.readFrames(seconds: 0.3) { $0.chunkTimestamps.count >= 40 }
            let stamps = frames.chunkTimestamps
            try #require(stamps.count >= 40, "got \(stamps.count) chunks in the first 300 ms")
            #expect(stamps.last! - stamps.first! >= 780_000)
            #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 == 20_000 }, "contiguous, in order")
        }
    }

    @Test func timeRepliesCarryLatencyAndJumpTheAudioQueue() async throws {
        try await withServer { port, _ in
            let speaker = try RawSpeaker(port: port)
            speaker.hello(id: "clock")
            _ = try speaker.readFrames(seconds: 0.5) { $0.chunkTimestamps.count >= 10 }
            let clientSent = TimeVal(nanoseconds: monotonicNanos())
            speaker.send(SnapFrame(id: 77, sent: clientSent, message: .time(TimeMessage())))
            let frames = try speaker.readFrames(seconds: 1) { $0.contains { $0.refersTo == 77 } }
            let reply = try #require(frames.first { $0.refersTo == 77 })
            guard case .time(let time) = reply.message else { Issue.record("reply is \(reply.message.type)"); return }
            let clientReceived = monotonicNanos()
            // Same host, same clock: c2s and s2c are both small and non-negative, and the server
            // stamped its reply no earlier than it received the request.
            #expect(time.latency.nanoseconds >= 0)
            #expect(reply.received.nanoseconds - clientSent.nanoseconds == time.latency.nanoseconds)
            #expect(reply.sent.nanoseconds >= reply.received.nanoseconds)
            #expect(reply.sent.nanoseconds <= clientReceived)
        }
    }

    @Test func mutedSpeakerGetsSettingsButNoAudio() async throws {
        try await withServer(speakers: ["quiet": .init(muted: true)]) { port, _ in
            let speaker = try RawSpeaker(port: port)
            speaker.hello(id: "quiet")
            let frames = try speaker.readFrames(seconds: 0.6)
            #expect(frames.first?.message == .serverSettings(ServerSettings(bufferMs: 1000, muted: true)))
            #expect(frames.chunkTimestamps.isEmpty)
            #expect(frames.contains { $0.message.type == .codecHeader })
        }
    }

    @Test func speakerMappedInTheConfigPlaysItsStream() async throws {
        let sources = ["tone://?name=default&freq=440&codec=pcm", "tone://?name=jazz&freq=220&sampleformat=44100:16:1&codec=pcm"]
        try await withServer(sources: sources, speakers: ["den": .init(stream: "jazz", volume: 40)]) { port, _ in
            let den = try RawSpeaker(port: port)
            den.hello(id: "den")
            let frames = try den.readFrames(seconds: 1) { $0.chunkTimestamps.count >= 2 }
            #expect(frames.first?.message == .serverSettings(ServerSettings(bufferMs: 1000, volume: 40)))
            guard case .codecHeader(let header) = frames[1].message else { Issue.record("no codec header"); return }
            // The 44-byte RIFF header names 44.1 kHz mono.
            #expect(header.payload.getInteger(at: 22, endianness: .little, as: UInt16.self) == 1)
            #expect(header.payload.getInteger(at: 24, endianness: .little, as: UInt32.self) == 44_100)
        }
    }
}
