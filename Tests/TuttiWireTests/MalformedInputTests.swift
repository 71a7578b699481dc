import NIOCore
import Testing
import TuttiTiming
@testable import TuttiWire

/// Bad bytes from a peer throw a typed error naming the problem; they never trap.
@Suite struct MalformedInputTests {
    private func decode(_ bytes: ByteBuffer) throws(WireError) -> SnapFrame? {
        var buffer = bytes
        return try SnapFrameDecoder().next(from: &buffer)
    }

    @Test func unknownTypeIsRejectedFromTheHeaderAlone() {
        for type: UInt16 in [0, 8, 42, 0x5453, .max] {
            #expect(throws: WireError.unknownType(type)) { try decode(frameBytes(type: type, payload: [])) }
        }
    }

    @Test func oversizedPayloadIsRejectedBeforeItArrives() {
        let header = frameBytes(type: 2, payload: [], sizeOverride: 1_000_001)
        #expect(throws: WireError.oversized(type: 2, size: 1_000_001)) { try decode(header) }
        #expect(throws: WireError.oversized(type: 5, size: .max)) { try decode(frameBytes(type: 5, payload: [], sizeOverride: .max)) }
    }

    @Test func maximumSizedPayloadIsAccepted() throws {
        // A WireChunk of exactly 1,000,000 payload bytes: 8 timestamp + 4 length + data.
        let data = [UInt8](repeating: 0x5A, count: 1_000_000 - 12)
        var payload = ByteBuffer()
        payload.writeTimeVal(TimeVal(sec: 1, usec: 2))
        payload.writeInteger(UInt32(data.count), endianness: .little)
        payload.writeBytes(data)
        let frame = try #require(try decode(frameBytes(type: 2, payload: Array(payload.readableBytesView))))
        guard case .wireChunk(let chunk) = frame.message else { Issue.record("not a chunk"); return }
        #expect(chunk.data.readableBytes == data.count)
    }

    @Test func incompleteInputAsksForMore() throws {
        var whole = SnapFrame(message: .clientInfo(ClientInfo(volume: 3))).encoded()
        for length in 0..<whole.readableBytes {
            var partial = whole.getSlice(at: 0, length: length)!
            #expect(try SnapFrameDecoder().next(from: &partial) == nil)
            #expect(partial.readableBytes == length, "nothing may be consumed")
        }
        #expect(try SnapFrameDecoder().next(from: &whole) != nil)
    }

    @Test(arguments: [
        (UInt16(1), [UInt8]([3, 0, 0, 0, 0x70, 0x63])),        // codec name shorter than announced
        (UInt16(1), [UInt8]([3, 0, 0, 0, 0x70, 0x63, 0x6D])),  // header blob length missing
        (UInt16(2), [UInt8]([1, 0, 0, 0])),                    // timestamp cut
        (UInt16(2), [UInt8]([0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1])),  // data shorter than announced
        (UInt16(4), [UInt8]([1, 2, 3])),                       // latency cut
        (UInt16(5), [UInt8]([255, 255, 255, 255])),            // string length far past the payload
    ])
    func truncatedFieldsAreReported(type: UInt16, payload: [UInt8]) {
        #expect {
            try decode(frameBytes(type: type, payload: payload))
        } throws: { error in
            guard case WireError.truncated = error else { return false }
            return true
        }
    }

    @Test(arguments: [
        (UInt16(5), "{\"MAC\": "),                  // broken JSON
        (UInt16(5), "[1, 2, 3]"),                   // not an object
        (UInt16(5), "{\"Instance\": \"one\"}"),      // wrong type
        (UInt16(3), "{\"bufferMs\": true}"),        // wrong type
        (UInt16(3), "not json at all"),
        (UInt16(7), "{\"volume\": \"loud\"}"),
        (UInt16(7), ""),
    ])
    func garbledJSONIsReported(type: UInt16, text: String) {
        #expect {
            try decode(frameBytes(type: type, payload: jsonString(text)))
        } throws: { error in
            guard case WireError.garbled = error else { return false }
            return true
        }
    }

    @Test func invalidUTF8IsGarbled() {
        let payload: [UInt8] = [2, 0, 0, 0, 0xC3, 0x28]
        #expect {
            try decode(frameBytes(type: 5, payload: payload))
        } throws: { error in
            guard case WireError.garbled(_, let reason) = error else { return false }
            return reason.contains("UTF-8")
        }
    }

    @Test func trailingBytesAreReported() {
        #expect(throws: WireError.trailingBytes(type: 4, count: 2)) {
            try decode(frameBytes(type: 4, payload: [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]))
        }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededRandom(seed: 0x7077_7469)
        for _ in 0..<2000 {
            let count = Int(generator.next() % 200)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if count >= 2, generator.next() % 2 == 0 {
                bytes[0] = UInt8(1 + generator.next() % 7)  // a valid type, so payload decoders get exercised
                bytes[1] = 0
            }
            if count >= 26 {
                let size = UInt32(count - 26)
                withUnsafeBytes(of: size.littleEndian) { bytes.replaceSubrange(22..<26, with: $0) }
            }
            var buffer = ByteBuffer(bytes: bytes)
            _ = try? SnapFrameDecoder().next(from: &buffer)
        }
    }
}
