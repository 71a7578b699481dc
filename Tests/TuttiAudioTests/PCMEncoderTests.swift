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
