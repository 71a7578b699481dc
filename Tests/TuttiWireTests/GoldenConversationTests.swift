import Foundation
import NIOCore
import Testing
@testable import TuttiWire

/// Decodes bytes that real Snapcast 0.26 peers put on the socket and re-encodes them exactly.
///
/// The fixtures were recorded once through `Fixtures/record_conversation.py`, a TCP relay
/// between Debian's `snapclient` and `snapserver` 0.26 on one host, playing a known sawtooth
/// from a FIFO; `Fixtures/README.md` gives the commands, the server INI and the signal.
@Suite struct GoldenConversationTests {
    static func fixture(_ name: String) throws -> ByteBuffer {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "bin"))
        return ByteBuffer(bytes: try Data(contentsOf: url))
    }

    static func frames(_ name: String) throws -> [(frame: SnapFrame, bytes: ByteBuffer)] {
        var buffer = try fixture(name)
        var result: [(SnapFrame, ByteBuffer)] = []
        while buffer.readableBytes > 0 {
            let before = buffer
            let frame = try #require(try SnapFrameDecoder().next(from: &buffer), "fixture ends mid-message")
            result.append((frame, before.getSlice(at: before.readerIndex, length: buffer.readerIndex - before.readerIndex)!))
        }
        return result
    }

    @Test func clientSideDecodesAndReencodesByteForByte() throws {
        let frames = try Self.frames("snapclient-to-server")
        #expect(frames.count == 53)
        guard case .hello(let hello) = frames[0].frame.message else { Issue.record("first is not Hello"); return }
        #expect(frames[0].frame.id == 2)
        #expect(hello.id == "golden-client")
        #expect(hello.clientName == "Snapclient")
        #expect(hello.version == "0.26.0")
        #expect(hello.protocolVersion == 2)
        #expect(hello.mac == "02:fc:00:00:00:01")
        #expect(frames.dropFirst().allSatisfy { $0.frame.message.type == .time })
        // Hello's JSON is re-serialized with sorted keys, which is how snapclient writes it too.
        for (frame, bytes) in frames { #expect(frame.encoded() == bytes) }
    }

    @Test func serverSideDecodesAndReencodesByteForByte() throws {
        let frames = try Self.frames("snapserver-to-client")
        #expect(frames.count == 64)
        var settings: ServerSettings?
        var header: CodecHeader?
        var chunkTimes: [Int64] = []
        for (frame, bytes) in frames {
            switch frame.message {
            case .serverSettings(let value): settings = value; #expect(frame.refersTo == 2)
            case .codecHeader(let value): header = value
            case .wireChunk(let chunk):
                chunkTimes.append(chunk.timestamp.microseconds)
                #expect(chunk.data.readableBytes == 3840)
            case .time: #expect(frame.refersTo == frame.id)
            default: Issue.record("unexpected \(frame.message.type)")
            }
            #expect(frame.encoded() == bytes, "re-encoding \(frame.message.type) id \(frame.id)")
        }
        #expect(settings == ServerSettings(bufferMs: 1000, latency: 0, volume: 100, muted: false))
        #expect(header?.codec == "pcm")
        #expect(header?.payload.readableBytes == 44)
        #expect(zip(chunkTimes, chunkTimes.dropFirst()).allSatisfy { $1 - $0 == 20_000 })
    }

    /// Tutti's PCM codec header for 48000:16:2 is exactly the one snapserver sends.
    @Test func pcmCodecHeaderMatchesSnapserver() throws {
        let frames = try Self.frames("snapserver-to-client")
        let header = try #require(frames.compactMap { if case .codecHeader(let h) = $0.frame.message { h } else { nil } }.first)
        let expected: [UInt8] = [
            0x52, 0x49, 0x46, 0x46, 0x24, 0, 0, 0, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6D, 0x74, 0x20,
            0x10, 0, 0, 0, 0x01, 0, 0x02, 0, 0x80, 0xBB, 0, 0, 0, 0xEE, 0x02, 0, 0x04, 0, 0x10, 0,
            0x64, 0x61, 0x74, 0x61, 0, 0, 0, 0,
        ]
        #expect(Array(header.payload.readableBytesView) == expected)
    }
}
