import Testing
import TuttiAudio
@testable import TuttiOpus

/// Encode → decode of a two-second stereo tone: timestamps, packet sizes against the bitrate,
/// output length, codec delay (found by cross-correlation), level and SNR against the source.
@Suite(.enabled(if: OpusLibrary.isAvailable, "needs libopus (apt-get install libopus0)"))
struct OpusRoundTripTests {
    static let seconds = 2.0
    static let tone = stereoTone(seconds: seconds)

    @Test(arguments: [64_000, 128_000, 192_000])
    func packetSizesFollowTheBitrate(bitrate: Int) throws {
        var encoder = try OpusEncoder(format: stereo48k, bitrate: bitrate)
        let packets = encodeInPieces(&encoder, Self.tone, framesPerCall: 960)
        #expect(packets.count == 100)
        #expect(packets.enumerated().allSatisfy { $1.timestamp == 1_000_000_000 + Int64($0) * 20_000_000 })
        let target = Double(bitrate) / 8 / 50  // bytes per 20 ms packet
        let mean = Double(packets.reduce(0) { $0 + $1.bytes.count }) / Double(packets.count)
        let largest = packets.map(\.bytes.count).max()!
        print("opus \(bitrate / 1000) kbit/s: target \(Int(target)) B/packet, mean \(Int(mean)), max \(largest)")
        // VBR: a steady tone lands near the target on average; a single packet may overshoot.
        #expect(mean > target * 0.8 && mean < target * 1.2)
        #expect(largest <= 1275)  // the largest single 20 ms Opus frame
    }

    @Test(arguments: [OpusEncoder.Application.restrictedLowDelay, .audio])
    func decodedToneMatchesTheSourceAfterTheCodecDelay(application: OpusEncoder.Application) throws {
        var encoder = try OpusEncoder(format: stereo48k, application: application)
        let packets = encodeInPieces(&encoder, Self.tone, framesPerCall: 336)  // 7 ms pieces
        let output = try decodeAll(packets, header: encoder.header)
        #expect(output.count == Self.tone.count)  // 100 packets × 960 frames × 2 channels

        for index in 0..<2 {
            let source = channel(Self.tone, index, of: 2), decoded = channel(output, index, of: 2)
            let delay = bestLag(source: source, output: decoded, maxLag: 1000)
            #expect(delay == encoder.codecDelayFrames, "channel \(index)")
            // Compare after the start-up (100 ms) over the rest of the aligned signal.
            let range = 4800..<(source.count - delay)
            let reference = source[range]
            let aligned = decoded[(range.lowerBound + delay)..<(range.upperBound + delay)]
            let levelDifference = decibels(rms(aligned) / rms(reference))
            let noise = zip(reference, aligned).map { $1 - $0 }
            let snr = decibels(rms(reference) / rms(noise[...]))
            print("opus \(application) channel \(index): delay \(delay) frames, level \(levelDifference) dB, SNR \(snr) dB")
            #expect(abs(levelDifference) < 1)
            // Measured 43–46 dB at 192 kbit/s with libopus 1.3.1 (Debian, x86-64). 30 dB leaves
            // 13 dB for other libopus versions and fixed-point builds, yet fails on a real fault:
            // a wrong delay, channel swap or sample-format slip gives an SNR near or below 0 dB.
            #expect(snr >= 30)
        }
    }

    @Test func monoRoundTripKeepsLengthAndDelay() throws {
        let mono = SampleFormat(rate: 48_000, bits: 16, channels: 1)
        var encoder = try OpusEncoder(format: mono, bitrate: 64_000)
        let left = stride(from: 0, to: Self.tone.count, by: 2).map { Self.tone[$0] }
        let packets = encodeInPieces(&encoder, left, framesPerCall: 480)
        let output = try decodeAll(packets, header: encoder.header)
        #expect(output.count == left.count)
        let delay = bestLag(source: channel(left, 0, of: 1), output: channel(output, 0, of: 1), maxLag: 1000)
        #expect(delay == encoder.codecDelayFrames)
    }
}
