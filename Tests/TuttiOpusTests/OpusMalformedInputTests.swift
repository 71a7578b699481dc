import Testing
import TuttiAudio
@testable import TuttiOpus

/// Damaged, truncated and random packets never trap: each decodes to audio of a legal length
/// or throws `badChunk`, and the decoder goes on decoding good packets afterwards.
@Suite(.enabled(if: OpusLibrary.isAvailable, "needs libopus (apt-get install libopus0)"))
struct OpusMalformedInputTests {
    static func goodPackets() throws -> (header: [UInt8], packets: [[UInt8]]) {
        var encoder = try OpusEncoder(format: stereo48k)
        let packets = encodeInPieces(&encoder, stereoTone(seconds: 0.4), framesPerCall: 960)
        return (encoder.header, packets.map(\.bytes))
    }

    /// Decodes `bytes`; returns nil for a typed rejection, else the frames decoded.
    static func outcome(_ decoder: inout OpusDecoder, _ bytes: [UInt8]) -> Int? {
        do {
            let samples = try bytes.withUnsafeBytes { try decoder.decode($0) }
            #expect(samples.count % 2 == 0 && samples.count / 2 <= decoder.maxFrames)
            return samples.count / 2
        } catch DecoderError.badChunk {
            return nil
        } catch {
            Issue.record("expected badChunk, got \(error)")
            return nil
        }
    }

    @Test func emptyChunkIsABadChunk() throws {
        var decoder = try OpusDecoder(header: OpusCodecHeader(format: stereo48k).bytes)
        #expect(throws: DecoderError.badChunk("empty Opus packet")) { try [UInt8]().withUnsafeBytes { try decoder.decode($0) } }
    }

    @Test func truncatedAndDamagedPacketsNeverTrapAndTheStreamRecovers() throws {
        let (header, packets) = try Self.goodPackets()
        var decoder = try OpusDecoder(header: header)
        var rejected = 0, tried = 0
        var random = SplitMix64(state: 42)
        for packet in packets {
            for length in [1, 2, 3, packet.count / 2, packet.count - 1] {
                tried += 1
                if Self.outcome(&decoder, Array(packet.prefix(length))) == nil { rejected += 1 }
            }
            var damaged = packet
            for _ in 0..<8 { damaged[Int.random(in: 0..<damaged.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random) }
            tried += 1
            if Self.outcome(&decoder, damaged) == nil { rejected += 1 }
            #expect(Self.outcome(&decoder, packet) == 960)  // a good packet still decodes
        }
        print("opus damaged/truncated: \(rejected) of \(tried) rejected with badChunk, the rest decoded")
    }

    /// Packets whose framing (RFC 6716 §3.2) is impossible: libopus rejects these outright.
    static let impossible: [(String, [UInt8])] = [
        ("code 3 with zero frames", [0xFF, 0x00]),
        ("code 3 with 49 frames (over 120 ms)", [0xFB, 0x31]),
        ("code 2 whose first frame is longer than the packet", [0xFA, 0xFB, 0x10]),
        ("code 1 with an odd payload", [0xF9, 0x01, 0x02, 0x03]),
    ]

    @Test(arguments: impossible)
    func impossibleFramingIsABadChunkNamingTheReason(name: String, bytes: [UInt8]) throws {
        var decoder = try OpusDecoder(header: OpusCodecHeader(format: stereo48k).bytes)
        do {
            let samples = try bytes.withUnsafeBytes { try decoder.decode($0) }
            Issue.record("\(name) decoded to \(samples.count) samples")
        } catch DecoderError.badChunk(let why) {
            #expect(why.contains("corrupted stream (-4)"), "\(name): \(why)")
        }
    }

    @Test(arguments: [1, 2, 7, 1275, 1276, 4000, 70_000])
    func randomPacketsNeverTrap(length: Int) throws {
        var decoder = try OpusDecoder(header: OpusCodecHeader(format: stereo48k).bytes)
        var random = SplitMix64(state: UInt64(length))
        let rounds = length > 4000 ? 20 : 200
        var rejected = 0
        for _ in 0..<rounds {
            if Self.outcome(&decoder, random.bytes(length)) == nil { rejected += 1 }
        }
        print("opus random \(length)-byte packets: \(rejected) of \(rounds) rejected with badChunk")
    }

    @Test func packetLossConcealmentFillsTheGap() throws {
        let (header, packets) = try Self.goodPackets()
        var decoder = try OpusDecoder(header: header)
        _ = try packets[0].withUnsafeBytes { try decoder.decode($0) }
        let concealed = decoder.concealLoss(frames: 960)
        #expect(concealed.count == 960 * 2)
        #expect(concealed.contains { $0 != 0 })  // extrapolated audio, not silence
        #expect(decoder.concealLoss(frames: 100).count == 120 * 2)  // rounded up to 2.5 ms
        #expect(Self.outcome(&decoder, packets[1]) == 960)
    }
}
