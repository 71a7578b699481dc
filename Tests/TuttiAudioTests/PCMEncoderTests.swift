import Testing
@testable import TuttiAudio

@Suite struct PCMEncoderTests {
    /// The codec header a real snapserver 0.26 sends for 48000:16:2 (see the wire fixtures).
    static let snapserverHeader: [UInt8] = [
        0x52, 0x49, 0x46, 0x46, 0x24, 0, 0, 0, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6D, 0x74, 0x20,
        0x10, 0, 0, 0, 0x01, 0, 0x02, 0, 0x80, 0xBB, 0, 0, 0, 0xEE, 0x02, 0, 0x04, 0, 0x10, 0,
        0x64, 0x61, 0x74, 0x61, 0, 0, 0, 0,
    ]

    @Test func headerMatchesSnapserverByteForByte() {
        #expect(PCMEncoder(format: .cd48k).header == Self.snapserverHeader)
    }

    @Test func passesWholeFramesThroughWithTheirTimestamp() {
        var encoder = PCMEncoder(format: SampleFormat(rate: 48_000, bits: 16, channels: 2))
        let bytes: [UInt8] = Array(0..<18)  // four whole frames and two stray bytes
        let packets = bytes.withUnsafeBytes { encoder.encode($0, timestamp: 123) }
        #expect(packets == [EncodedPacket(timestamp: 123, frames: 4, bytes: Array(0..<16))])
        #expect([UInt8]().withUnsafeBytes { encoder.encode($0, timestamp: 0) }.isEmpty)
    }
}

@Suite struct PCMDecoderTests {
    @Test func sixteenBitMapsExactlyAndBack() throws {
        var decoder = try PCMDecoder(header: PCMEncoderTests.snapserverHeader)
        #expect(decoder.format == .cd48k)
        let values: [Int16] = [0, 1, -1, .max, .min, 12_345, -12_345, 256]
        let bytes = values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let samples = try bytes.withUnsafeBytes { try decoder.decode($0) }
        #expect(samples.map { Int16(($0 * 32768).rounded()) } == values)
    }

    @Test func partialFramesAreRejected() throws {
        var decoder = PCMDecoder(format: .cd48k)
        #expect(throws: DecoderError.self) { try [UInt8](repeating: 0, count: 6).withUnsafeBytes { try decoder.decode($0) } }
    }

    @Test func garbageHeaderIsATypedError() {
        #expect {
            try PCMDecoder(header: [1, 2, 3])
        } throws: { error in
            if case DecoderError.badHeader = error { true } else { false }
        }
    }
}

@Suite struct PCMChannelMapTests {
    @Test(arguments: [
        (ChannelSelection.left, [Int16(1000), 1000, -7, -7]),
        (ChannelSelection.right, [Int16(-2000), -2000, 9, 9]),
        (ChannelSelection.mix, [Int16(-500), -500, 1, 1]),
    ])
    func sixteenBitStereoCarriesTheSelectedChannelOnBoth(selection: ChannelSelection, expected: [Int16]) {
        var samples: [Int16] = [1000, -2000, -7, 9]
        samples.withUnsafeMutableBytes { PCMChannelMap.apply(selection, to: $0, format: .cd48k) }
        #expect(samples == expected)
    }

    @Test func twentyFourBitContainersAndEightBitUnsignedSamples() {
        var wide: [Int32] = [8_000_000, -8_000_000, 100, 300]
        wide.withUnsafeMutableBytes { PCMChannelMap.apply(.mix, to: $0, format: SampleFormat(rate: 48_000, bits: 24, channels: 2)) }
        #expect(wide == [0, 0, 200, 200])
        var bytes: [UInt8] = [255, 1, 128, 130]
        bytes.withUnsafeMutableBytes { PCMChannelMap.apply(.mix, to: $0, format: SampleFormat(rate: 8_000, bits: 8, channels: 2)) }
        #expect(bytes == [128, 128, 129, 129])
    }

    @Test func monoIsLeftAlone() {
        var samples: [Int16] = [1, 2, 3]
        samples.withUnsafeMutableBytes { PCMChannelMap.apply(.left, to: $0, format: SampleFormat(rate: 48_000, bits: 16, channels: 1)) }
        #expect(samples == [1, 2, 3])
    }
}
