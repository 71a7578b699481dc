import Testing
import TuttiAudio
@testable import TuttiSources

@Suite("WAVFileSource")
struct WAVFileSourceTests {
    static let formats = [
        SampleFormat(rate: 48_000, bits: 16, channels: 2),
        SampleFormat(rate: 44_100, bits: 24, channels: 2),
        SampleFormat(rate: 96_000, bits: 32, channels: 1),
    ]

    @Test("data comes back byte for byte", arguments: formats)
    func roundTrip(format: SampleFormat) throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/a.wav"
        let data = pattern(count: format.bytesPerFrame * 2_500)
        writeFile(path, WAVHeader.canonicalBytes(for: format, dataSize: UInt64(data.count)) + data)

        let uri = try SourceURI(parsing: "file://\(path)")
        let source = try SourceFactory.open(uri, allowProcess: false, logger: testLogger)
        defer { source.close() }
        #expect(source.format == format)
        #expect(try readBytes(from: source, count: data.count + 100) == data)
        #expect(try readOnce(from: source, timeout: 0) == .ended)
        #expect(try readOnce(from: source, timeout: 0) == .ended)
    }

    @Test("looping starts over at the data, not the header")
    func loops() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/loop.wav"
        let data = pattern(count: 400)
        writeFile(path, WAVHeader.canonicalBytes(for: .cd48k, dataSize: UInt64(data.count)) + data + [9, 9, 9])  // trailing junk
        let source = try WAVFileSource(path: path, loop: true, requiredFormat: .cd48k, logger: testLogger)
        #expect(try readBytes(from: source, count: 1000) == Array((data + data + data)[0..<1000]))
    }

    @Test("a stream that was never finalized plays to the end of the file, in whole frames")
    func unfinalizedStream() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/stream.wav"
        let data = pattern(count: 1001)
        writeFile(path, WAVHeader.streamingPlaceholder(for: .cd48k) + data)
        let source = try WAVFileSource(path: path, loop: false, requiredFormat: nil, logger: testLogger)
        #expect(try readBytes(from: source, count: 2000) == Array(data[0..<1000]))
    }

    @Test("packed 24-bit is widened to 4-byte containers; 8-bit made signed")
    func conversions() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let packedPath = "\(directory)/packed.wav"
        var header = WAVHeader.canonicalBytes(for: SampleFormat(rate: 48_000, bits: 24, channels: 1), dataSize: 6)
        header[32] = 3  // block align of packed mono 24-bit
        writeFile(packedPath, header + [0x01, 0x02, 0x03, 0xFF, 0xFE, 0x80])
        let packed = try WAVFileSource(path: packedPath, loop: false, requiredFormat: nil, logger: testLogger)
        #expect(packed.header.bytesPerContainer == 3)
        #expect(try readBytes(from: packed, count: 100) == [0x01, 0x02, 0x03, 0x00, 0xFF, 0xFE, 0x80, 0xFF])

        let eightPath = "\(directory)/eight.wav"
        let eight = SampleFormat(rate: 8000, bits: 8, channels: 1)
        writeFile(eightPath, WAVHeader.canonicalBytes(for: eight, dataSize: 3) + [0x80, 0xFF, 0x00])
        let source = try WAVFileSource(path: eightPath, loop: false, requiredFormat: eight, logger: testLogger)
        #expect(try readBytes(from: source, count: 100) == [0x00, 0x7F, 0x80])
    }

    @Test("a format other than the stream's is refused, naming both")
    func formatMismatch() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/a.wav"
        writeFile(path, WAVHeader.canonicalBytes(for: SampleFormat(rate: 44_100, bits: 16, channels: 2), dataSize: 0))
        let uri = try SourceURI(parsing: "file://\(path)?sampleformat=48000:16:2")
        #expect(throws: SourceError.badContent("\(path) is 44100:16:2, the stream wants 48000:16:2")) {
            try SourceFactory.open(uri, allowProcess: false, logger: testLogger)
        }
    }

    @Test("missing, garbage and truncated files fail clearly")
    func badFiles() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        #expect(throws: SourceError.self) {
            try WAVFileSource(path: "\(directory)/missing.wav", loop: false, requiredFormat: nil, logger: testLogger)
        }
        let garbage = "\(directory)/garbage.wav"
        writeFile(garbage, Array("ID3 this is an mp3, honest".utf8))
        do {
            _ = try WAVFileSource(path: garbage, loop: false, requiredFormat: nil, logger: testLogger)
            Issue.record("garbage opened")
        } catch {
            #expect(error == .badContent("\(garbage): not a RIFF file (starts with 'ID3 ')"))
        }
        let truncated = "\(directory)/truncated.wav"
        writeFile(truncated, Array(WAVHeader.canonicalBytes(for: .cd48k, dataSize: 0)[0..<30]))
        #expect(throws: SourceError.badContent("\(truncated): WAV header is truncated (needs at least 36 bytes)")) {
            try WAVFileSource(path: truncated, loop: false, requiredFormat: nil, logger: testLogger)
        }
        #expect(throws: SourceError.self) {
            try WAVFileSource(path: directory, loop: false, requiredFormat: nil, logger: testLogger)
        }
    }

    @Test("a long LIST chunk before the data is skipped")
    func bigListChunk() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/tagged.wav"
        let canonical = WAVHeader.canonicalBytes(for: .cd48k, dataSize: 8)
        let listBody = [UInt8](repeating: 7, count: 10_000)
        let list = Array("LIST".utf8) + [0x10, 0x27, 0, 0] + listBody
        writeFile(path, Array(canonical[0..<36]) + list + Array(canonical[36...]) + [1, 2, 3, 4, 5, 6, 7, 8])
        let source = try WAVFileSource(path: path, loop: false, requiredFormat: nil, logger: testLogger)
        #expect(try readBytes(from: source, count: 100) == [1, 2, 3, 4, 5, 6, 7, 8])
    }
}
