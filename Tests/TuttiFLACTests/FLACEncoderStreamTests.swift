import Foundation
import Testing
import TuttiAudio
@testable import TuttiFLAC

/// The live-stream side: codec header, whole frames per packet, packet timestamps that account
/// for held samples, and header + packets forming a valid FLAC stream (the Snapcast wire form).
@Suite struct FLACEncoderStreamTests {
    static let format = SampleFormat.cd48k
    static let start: Int64 = 1_700_000_000_123_456_789

    /// Feeds `pcm` in chunks of `chunkFrames` frames, chunk k stamped `stamp(k, frameIndex)`.
    static func feed(
        _ encoder: inout FLACEncoder, _ pcm: [UInt8], chunkFrames: [Int], stamp: (Int, Int) -> Int64
    ) -> (packets: [EncodedPacket], chunkStarts: [(frame: Int, timestamp: Int64)]) {
        var packets: [EncodedPacket] = []
        var starts: [(frame: Int, timestamp: Int64)] = []
        let frameBytes = format.bytesPerFrame
        var frame = 0
        var k = 0
        while frame * frameBytes < pcm.count {
            let count = min(chunkFrames[k % chunkFrames.count], pcm.count / frameBytes - frame)
            let timestamp = stamp(k, frame)
            starts.append((frame, timestamp))
            pcm.withUnsafeBytes { bytes in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[(frame * frameBytes)..<((frame + count) * frameBytes)])
                packets += encoder.encode(chunk, timestamp: timestamp)
            }
            frame += count
            k += 1
        }
        return (packets, starts)
    }

    /// The timestamp a sample should carry: its chunk's stamp plus the frames before it there.
    static func expectedTimestamp(of frame: Int, _ starts: [(frame: Int, timestamp: Int64)]) -> Int64 {
        let chunk = starts.last { $0.frame <= frame }!
        return chunk.timestamp + format.nanoseconds(frames: frame - chunk.frame)
    }

    @Test("header is fLaC, STREAMINFO for a live stream, then a last VORBIS_COMMENT")
    func headerDescribesALiveStream() throws {
        let encoder = FLACEncoder(format: SampleFormat(rate: 44100, bits: 24, channels: 6), level: 8)
        let header = encoder.header
        #expect(encoder.codecName == "flac")
        #expect(Array(header[0..<4]) == Array("fLaC".utf8))
        #expect(header[4] == 0x00 && header[7] == 34)  // STREAMINFO, not last, 34 bytes
        let info = try FLACStreamInfo(parsing: Array(header[8..<42]))
        #expect(info == FLACStreamInfo(minBlockSize: 4096, maxBlockSize: 4096, sampleRate: 44100, channels: 6, bitsPerSample: 24))
        #expect(header[42] == 0x84)  // VORBIS_COMMENT, last
        let length = Int(header[43]) << 16 | Int(header[44]) << 8 | Int(header[45])
        #expect(header.count == 46 + length)
        let vendorLength = Int(header[46]) | Int(header[47]) << 8 | Int(header[48]) << 16 | Int(header[49]) << 24
        #expect(String(decoding: header[50..<(50 + vendorLength)], as: UTF8.self) == FLACEncoder.vendor)
        #expect(header.count == 50 + vendorLength + 4)  // and no comments
    }

    @Test(
        "20 ms chunks: packet timestamps are their first sample's, nothing lost or repeated",
        .enabled(if: FLACEncoderReferenceTool.path != nil, FLACEncoderReferenceTool.missing),
        arguments: [1, 5])
    func twentyMillisecondChunks(level: Int) throws {
        var encoder = FLACEncoder(format: Self.format, level: level)
        let samples = FLACEncoderMaterial.samples(.music, frames: 48000 * 2 + 333, format: Self.format)
        let pcm = FLACEncoderMaterial.pcm(samples, format: Self.format)
        let (packets, starts) = Self.feed(&encoder, pcm, chunkFrames: [960]) { k, _ in Self.start + Int64(k) * 20_000_000 }
        var frame = 0
        for packet in packets {
            #expect(packet.timestamp == Self.expectedTimestamp(of: frame, starts))
            #expect(packet.frames % encoder.blockSize == 0 && packet.frames > 0)
            frame += packet.frames
        }
        #expect(frame + encoder.heldSampleCount == samples.count / 2)
        #expect(encoder.heldSampleCount < encoder.blockSize)
        // The wire form: header + packets is a valid stream holding exactly the coded frames.
        let decoded = try FLACEncoderReferenceTool.decode(encoder.header + packets.flatMap(\.bytes))
        #expect(decoded == Array(pcm.prefix(frame * Self.format.bytesPerFrame)))
    }

    @Test("chunks of odd sizes and jittered stamps: each packet takes its first sample's chunk stamp")
    func oddChunksAndJitter() throws {
        var encoder = FLACEncoder(format: Self.format, level: 0)  // 1152-frame blocks
        let samples = FLACEncoderMaterial.samples(.noise, frames: 20_000, format: Self.format)
        let pcm = FLACEncoderMaterial.pcm(samples, format: Self.format)
        let (packets, starts) = Self.feed(&encoder, pcm, chunkFrames: [7, 1000, 5000, 1, 2500]) { k, frame in
            Self.start + Self.format.nanoseconds(frames: frame) + Int64((k * 7919) % 1000)  // up to 1 µs of jitter
        }
        var frame = 0
        for packet in packets {
            #expect(packet.timestamp == Self.expectedTimestamp(of: frame, starts))
            frame += packet.frames
        }
        #expect(packets.contains { $0.frames > encoder.blockSize })  // a 5000-frame chunk completes several blocks
        #expect(frame == 20_000 / 1152 * 1152)
        if FLACEncoderReferenceTool.path != nil {
            let decoded = try FLACEncoderReferenceTool.decode(encoder.header + packets.flatMap(\.bytes))
            #expect(decoded == Array(pcm.prefix(frame * Self.format.bytesPerFrame)))
        }
    }

    @Test("reset drops held samples; the next packet starts at the next input")
    func resetDropsHeldSamples() throws {
        var encoder = FLACEncoder(format: Self.format, level: 5)
        let samples = FLACEncoderMaterial.samples(.music, frames: 6000, format: Self.format)
        let pcm = FLACEncoderMaterial.pcm(samples, format: Self.format)
        let first = pcm.withUnsafeBytes { encoder.encode(UnsafeRawBufferPointer(rebasing: $0[0..<(3000 * 4)]), timestamp: 10) }
        #expect(first.isEmpty && encoder.heldSampleCount == 3000)
        encoder.reset()
        #expect(encoder.heldSampleCount == 0)
        let later: Int64 = 5_000_000_000
        let second = pcm.withUnsafeBytes { encoder.encode($0, timestamp: later) }
        #expect(second.map(\.timestamp) == [later])
        #expect(second.map(\.frames) == [4096])
        if FLACEncoderReferenceTool.path != nil {
            #expect(try FLACEncoderReferenceTool.decode(encoder.header + second[0].bytes) == Array(pcm.prefix(4096 * 4)))
        }
    }

    @Test("copies of an encoder encode independently")
    func copiesAreIndependent() {
        var a = FLACEncoder(format: Self.format, level: 5, blockSize: 1024)
        let pcm = FLACEncoderMaterial.pcm(FLACEncoderMaterial.samples(.music, frames: 1024, format: Self.format), format: Self.format)
        var b = a
        let fromA = pcm.withUnsafeBytes { a.encode($0, timestamp: 0) }
        let fromB = pcm.withUnsafeBytes { b.encode($0, timestamp: 0) }
        #expect(fromA == fromB && fromA.count == 1)
    }

    @Test("empty and sub-frame input returns nothing")
    func emptyInput() {
        var encoder = FLACEncoder(format: Self.format)
        #expect([UInt8]().withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
        #expect([UInt8](repeating: 1, count: 3).withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
        #expect(encoder.heldSampleCount == 0)
    }

    @Test("block sizes and levels are clamped to what FLAC allows")
    func clamping() {
        #expect(FLACEncoder(format: Self.format, level: 42).level == 8)
        #expect(FLACEncoder(format: Self.format, level: -1).blockSize == 1152)
        #expect(FLACEncoder(format: Self.format, blockSize: 3).blockSize == 16)
        #expect(FLACEncoder(format: Self.format, blockSize: 100_000).blockSize == 65535)
    }
}
