import Foundation
import NIOCore
import Testing
import TuttiTestSupport
import TuttiServer
import TuttiWire

/// A speaker sending garbage is dropped with a logged reason; the others never notice.
@Suite(.serialized) struct MisbehavingSpeakerTests {
    static let cases: [(name: String, bytes: [UInt8], logged: String)] = [
        ("garbage", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "unknown message type"),
        ("oversized", header(type: 2, size: 2_000_000), "announces 2000000 payload bytes"),
        ("unknown type", header(type: 9, size: 0), "unknown message type 9"),
        ("broken Hello JSON", helloBytes(json: "{\"MAC\": \"aa"), "garbled Hello JSON"),
        ("Hello of the wrong JSON type", helloBytes(json: "[\"MAC\"]"), "garbled Hello JSON"),
    ]

    @Test(arguments: cases.map(\.name))
    func badBytesDisconnectOnlyTheSender(name: String) async throws {
        let bad = Self.cases.first { $0.name == name }!
        try await withServer { port, log in
            let good = try RawSpeaker(port: port)
            good.hello(id: "good")
            let before = try good.readFrames(seconds: 1) { $0.chunkTimestamps.count >= 5 }.chunkTimestamps

            let offender = try RawSpeaker(port: port)
            offender.send(bad.bytes)
            #expect(offender.waitForClose(seconds: 2), "the server should close the connection")
            #expect(waitUntil(seconds: 1) { log.contains("disconnecting speaker: ") && log.contains(bad.logged) }, "\(log.messages)")

            let after = try good.readFrames(seconds: 0.5).chunkTimestamps
            let all = before + after
            #expect(after.count >= 10)
            #expect(zip(all, all.dropFirst()).allSatisfy { $1 - $0 == 20_000 }, "the good speaker saw no gap")
        }
    }

    @Test func closingMidMessageIsLogged() async throws {
        try await withServer { port, log in
            let offender = try RawSpeaker(port: port)
            offender.send(Array(Self.helloBytes(json: "{}").prefix(30)))
            try await Task.sleep(for: .milliseconds(100))
            offender.closeNow()
            #expect(waitUntil(seconds: 2) { log.contains("closed mid-message") }, "\(log.messages)")
            // The server still serves.
            let next = try RawSpeaker(port: port)
            next.hello(id: "next")
            #expect(try next.readFrames(seconds: 1) { $0.chunkTimestamps.count >= 2 }.chunkTimestamps.count >= 2)
        }
    }

    @Test func stuckSpeakerDoesNotDelayOthers() async throws {
        try await withServer(bufferMs: 300) { port, log in
            let stuck = try RawSpeaker(port: port, receiveBufferSize: 4096)
            stuck.hello(id: "stuck")  // ...and never reads again
            let good = try RawSpeaker(port: port)
            good.hello(id: "good")
            let stamps = try good.readFrames(seconds: 3).chunkTimestamps
            #expect(stamps.count >= 140)
            #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 == 20_000 })
            #expect(!log.contains("disconnecting speaker"))
        }
    }

    static func header(type: UInt16, size: UInt32) -> [UInt8] {
        var buffer = ByteBuffer()
        MessageHeader(type: type, payloadSize: size).write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func helloBytes(json: String) -> [UInt8] {
        var payload = ByteBuffer()
        payload.writeInteger(UInt32(json.utf8.count), endianness: .little)
        payload.writeString(json)
        return header(type: 5, size: UInt32(payload.readableBytes)) + Array(payload.readableBytesView)
    }
}
