import Testing
@testable import TuttiFLAC

/// CRC and STREAMINFO: the shared pieces the decoder and the encoder both rely on.
struct FLACDecoderCRCTests {
    /// Bit-at-a-time reference, to check the tables against.
    static func slowCRC16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x8005 : crc << 1 }
        }
        return crc
    }

    @Test func crcCheckValues() {
        let check = Array("123456789".utf8)
        #expect(CRC8.checksum(check) == 0xF4)  // CRC-8 (poly 0x07) check value
        #expect(CRC16.checksum(check) == 0xFEE8)  // CRC-16/UMTS (poly 0x8005, MSB first) check value
        #expect(CRC16.checksum([UInt8]()) == 0)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000])
    func crc16SlicingMatchesBitwise(length: Int) {
        var rng = FLACDecoderRandom(seed: UInt64(length))
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(CRC16.checksum(bytes) == Self.slowCRC16(bytes))
        // Incremental updates agree with one pass.
        let split = length / 3
        let first = bytes[..<split].withUnsafeBytes { CRC16.update(0, $0) }
        let whole = bytes[split...].withUnsafeBytes { CRC16.update(first, $0) }
        #expect(whole == Self.slowCRC16(bytes))
    }

    @Test func streamInfoRoundTrip() throws {
        let info = FLACStreamInfo(
            minBlockSize: 4096, maxBlockSize: 4096, minFrameSize: 14, maxFrameSize: 16_777_215,
            sampleRate: 48_000, channels: 6, bitsPerSample: 24, totalSamples: 0xF_FFFF_FFFF,
            md5: Array(0..<16))
        let bytes = info.bytes
        #expect(bytes.count == 34)
        #expect(try FLACStreamInfo(parsing: bytes) == info)
        #expect(info.metadataBlock(isLast: true).prefix(4) == [0x80, 0, 0, 34])
    }

    @Test func streamInfoRefusesBadValues() {
        var info = FLACStreamInfo(minBlockSize: 4096, maxBlockSize: 4096, sampleRate: 44_100, channels: 2, bitsPerSample: 16)
        info.bitsPerSample = 3
        #expect(throws: FLACError.self) { try FLACStreamInfo(parsing: info.bytes) }
        #expect(throws: FLACError.self) { try FLACStreamInfo(parsing: [UInt8](repeating: 0, count: 20)) }
    }
}
