import Testing
import TuttiAudio
@testable import TuttiOpus

/// The 12-byte header is the wire contract with Snapcast, so its bytes are pinned exactly.
@Suite struct OpusCodecHeaderTests {
    @Test func stereoHeaderBytesAreSnapcasts() {
        // "SUPO", 48000 = 0x0000BB80, 16, 2 — all little-endian.
        #expect(OpusCodecHeader(format: stereo48k).bytes == [0x53, 0x55, 0x50, 0x4F, 0x80, 0xBB, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00])
    }

    @Test(arguments: [stereo48k, SampleFormat(rate: 48_000, bits: 16, channels: 1), SampleFormat(rate: 24_000, bits: 16, channels: 2)])
    func parsesWhatItWrites(format: SampleFormat) throws {
        #expect(try OpusCodecHeader(parsing: OpusCodecHeader(format: format).bytes).format == format)
    }

    static let good: [UInt8] = [0x53, 0x55, 0x50, 0x4F, 0x80, 0xBB, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00]

    static let garbage: [(String, [UInt8])] = [
        ("empty", []),
        ("truncated", Array(good.prefix(11))),
        ("too long", good + [0]),
        ("big-endian magic", [0x4F, 0x50, 0x55, 0x53] + good.dropFirst(4)),
        ("FLAC stream", Array("fLaC".utf8) + Array(repeating: 0, count: 8)),
        ("RIFF header", Array("RIFF".utf8) + Array(repeating: 0, count: 8)),
        ("rate 44100", Array(good.prefix(4)) + [0x44, 0xAC, 0, 0] + good.suffix(4)),
        ("rate 0", Array(good.prefix(4)) + [0, 0, 0, 0] + good.suffix(4)),
        ("0 channels", Array(good.prefix(10)) + [0, 0]),
        ("3 channels", Array(good.prefix(10)) + [3, 0]),
        ("65535 channels", Array(good.prefix(10)) + [0xFF, 0xFF]),
        ("bits 0", Array(good.prefix(8)) + [0, 0, 2, 0]),
        ("all 0xFF", Array(repeating: 0xFF, count: 12)),
    ]

    @Test(arguments: garbage)
    func garbageIsABadHeader(name: String, bytes: [UInt8]) {
        #expect(throws: DecoderError.self, "\(name)") { try OpusCodecHeader(parsing: bytes) }
        do {
            _ = try OpusDecoder(header: bytes)
            Issue.record("\(name) was accepted")
        } catch {
            guard case .badHeader = error else { Issue.record("\(name): expected badHeader, got \(error)"); return }
        }
    }

    @Test func wrongMagicNamesIt() {
        var bytes = Self.good
        bytes[0] = 0
        #expect(throws: DecoderError.badHeader("Opus header magic is 0x4f505500, expected 0x4f505553 ('SUPO')")) {
            try OpusCodecHeader(parsing: bytes)
        }
    }
}
