import Testing
import TuttiAudio
@testable import TuttiOpus

/// Framing and options: whole 20 ms packets from any input size, sample-clock timestamps,
/// reset, and the formats and options the encoder refuses.
@Suite(.enabled(if: OpusLibrary.isAvailable, "needs libopus (apt-get install libopus0)"))
struct OpusEncoderTests {
    @Test(arguments: [7, 20, 33, 60, 1])
    func anyPieceSizeYieldsWhole20msPacketsOnTheSampleClock(milliseconds: Int) throws {
        var encoder = try OpusEncoder(format: stereo48k)
        let tone = stereoTone(seconds: 1)
        let packets = encodeInPieces(&encoder, tone, framesPerCall: 48 * milliseconds, start: 5_000_000_000)
        #expect(packets.count == 50)
        for (index, packet) in packets.enumerated() {
            #expect(packet.frames == 960)
            #expect(packet.timestamp == 5_000_000_000 + Int64(index) * 20_000_000)
        }
    }

    @Test func callersNanosecondRoundingDoesNotShiftTheSampleClock() throws {
        var encoder = try OpusEncoder(format: stereo48k)
        let tone = stereoTone(seconds: 0.1)
        // 500 frames, then 1000, then 1000. Call 2's timestamp is 500 frames rounded down to the
        // nanosecond (10_416_666.7); the second packet starts at frame 960, exactly 20 ms.
        #expect(tone[..<1000].withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
        let second = tone[1000..<3000].withUnsafeBytes { encoder.encode($0, timestamp: 10_416_666) }
        #expect(second.map(\.timestamp) == [0])
        let third = tone[3000..<5000].withUnsafeBytes { encoder.encode($0, timestamp: 31_250_000) }
        #expect(third.map(\.timestamp) == [20_000_000])
        #expect(encoder.droppedPackets == 0)
    }

    @Test func aJumpInInputTimeRestartsTheClockForTheNextPacket() throws {
        var encoder = try OpusEncoder(format: stereo48k)
        let tone = stereoTone(seconds: 0.1)
        // 1200 frames from 0: one packet at 0, 240 frames held (their packet keeps 20 ms).
        #expect(tone[..<2400].withUnsafeBytes { encoder.encode($0, timestamp: 0) }.map(\.timestamp) == [0])
        // The source skipped: the next 1680 frames are stamped 3 s, not 25 ms. The held packet
        // completes with 720 of them; the next packet starts at frame 720 of this call.
        let packets = tone[2400..<5760].withUnsafeBytes { encoder.encode($0, timestamp: 3_000_000_000) }
        #expect(packets.map(\.timestamp) == [20_000_000, 3_015_000_000])
    }

    @Test func resetDropsHeldSamples() throws {
        var encoder = try OpusEncoder(format: stereo48k)
        let tone = stereoTone(seconds: 0.1)
        #expect(tone[..<1200].withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)  // 600 frames held
        encoder.reset()
        // Had the 600 frames survived, 400 more would complete a packet stamped 0.
        #expect(tone[..<800].withUnsafeBytes { encoder.encode($0, timestamp: 7_000_000_000) }.isEmpty)
        let packets = tone[800..<1920].withUnsafeBytes { encoder.encode($0, timestamp: 7_008_333_333) }
        #expect(packets.map(\.timestamp) == [7_000_000_000])
    }

    @Test func emptyAndSubFrameInputYieldNothing() throws {
        var encoder = try OpusEncoder(format: stereo48k)
        #expect([UInt8]().withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
        #expect([UInt8](repeating: 1, count: 3).withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
    }

    @Test func headerAndNameAreSnapcasts() throws {
        let encoder = try OpusEncoder(format: SampleFormat(rate: 48_000, bits: 16, channels: 1), bitrate: 64_000)
        #expect(encoder.codecName == "opus")
        #expect(encoder.header == [0x53, 0x55, 0x50, 0x4F, 0x80, 0xBB, 0, 0, 16, 0, 1, 0])
    }

    @Test func lookaheadIsReported() throws {
        // libopus: 2.5 ms in low-delay mode; the audio mode adds 4 ms of delay compensation.
        #expect(try OpusEncoder(format: stereo48k).codecDelayFrames == 120)
        #expect(try OpusEncoder(format: stereo48k, application: .audio).codecDelayFrames == 312)
    }

    static let refused: [(SampleFormat, Int, Int)] = [
        (SampleFormat(rate: 44_100, bits: 16, channels: 2), 192_000, 10),
        (SampleFormat(rate: 48_000, bits: 24, channels: 2), 192_000, 10),
        (SampleFormat(rate: 48_000, bits: 16, channels: 6), 192_000, 10),
        (stereo48k, 5_999, 10),
        (stereo48k, 512_001, 10),
        (stereo48k, 192_000, 11),
    ]

    @Test(arguments: refused)
    func refusesWhatOpusCannotDo(format: SampleFormat, bitrate: Int, complexity: Int) {
        #expect(throws: OpusError.self) { try OpusEncoder(format: format, bitrate: bitrate, complexity: complexity) }
    }
}
