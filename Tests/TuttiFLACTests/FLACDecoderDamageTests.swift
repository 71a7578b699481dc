import Testing
import TuttiAudio
@testable import TuttiFLAC

/// Damaged, truncated and random input: typed errors, never a trap, and recovery at the next frame.
struct FLACDecoderDamageTests {
    static let blockSize = 1152

    /// A `flac -5` stream of music with fixed 1152-sample blocks, its source and its decoding.
    static func material() throws -> (source: [[Int32]], file: [UInt8], clean: FLACStreamDecoder.Result) {
        let source = FLACDecoderMaterial.make(.music, frames: 30_000, channels: 2, bits: 16)
        let file = try FLACTool.encode(source, bits: 16, rate: 44_100, options: ["-5", "--blocksize=\(blockSize)"])
        return (source, file, try FLACStreamDecoder.decode(file))
    }

    /// Every decoded frame's samples equal the source where its frame number puts them.
    static func expectFramesMatchSource(_ result: FLACStreamDecoder.Result, _ source: [[Int32]]) {
        for (index, frame) in result.frames.enumerated() {
            let start = Int(frame.header.number) * blockSize
            let count = frame.header.blockSize
            for channel in source.indices {
                let decoded = result.samples[channel][frame.outputOffset..<(frame.outputOffset + count)]
                #expect(decoded.elementsEqual(source[channel][start..<(start + count)]), "frame #\(index) channel \(channel)")
            }
        }
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing), arguments: 0..<24)
    func flippedBitIsCaughtAndTheNextFrameDecodes(seed: Int) throws {
        let (source, file, clean) = try Self.material()
        var random = FLACDecoderRandom(seed: UInt64(seed))
        let target = Int.random(in: 1..<(clean.frames.count - 1), using: &random)
        let start = clean.frames[target].byteOffset
        let end = clean.frames[target + 1].byteOffset
        var damaged = file
        let bit = Int.random(in: (start * 8)..<(end * 8), using: &random)
        damaged[bit / 8] ^= 1 << UInt8(bit % 8)

        let result = try FLACStreamDecoder.decode(damaged)
        #expect(result.damagedFrames >= 1)
        let numbers = result.frames.map(\.header.number)
        #expect(!numbers.contains(UInt64(target)))
        // Every other frame is back, in order, bit-exact.
        #expect(numbers == clean.frames.map(\.header.number).filter { $0 != UInt64(target) })
        Self.expectFramesMatchSource(result, source)
        if let first = result.errors.first {
            switch first {
            case .frameCRCMismatch, .headerCRCMismatch, .badFrameHeader, .badSubframe, .badResidual, .endOfData, .lostSync,
                .streamMismatch:
                break
            default: Issue.record("unexpected error \(first)")
            }
        }
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing))
    func chunkWithADamagedFrameYieldsTheOthers() throws {
        let (source, file, clean) = try Self.material()
        let header = Array(file[..<clean.metadata.audioOffset])
        var decoder = try FLACDecoder(header: header)
        // Frames 3, 4, 5 in one chunk; frame 4 damaged in its residual.
        var chunk = Array(file[clean.frames[3].byteOffset..<clean.frames[6].byteOffset])
        let middle = clean.frames[4].byteOffset - clean.frames[3].byteOffset + 40
        chunk[middle] ^= 0x10
        let floats = try chunk.withUnsafeBytes { try decoder.decode($0) }
        #expect(floats.count == 2 * 2 * Self.blockSize)
        #expect(decoder.damagedFrames == 1)
        #expect(floats[0] == Float(source[0][3 * Self.blockSize]) / 32768)
        #expect(floats[2 * Self.blockSize] == Float(source[0][5 * Self.blockSize]) / 32768)

        // A chunk of nothing but the damaged frame throws, naming why.
        let alone = Array(chunk[(clean.frames[4].byteOffset - clean.frames[3].byteOffset)..<(clean.frames[5].byteOffset - clean.frames[3].byteOffset)])
        #expect(throws: DecoderError.self) { try alone.withUnsafeBytes { try decoder.decode($0) } }
        // An empty chunk is no error.
        #expect(try [UInt8]().withUnsafeBytes { try decoder.decode($0) } == [])
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing))
    func truncatedFrameThrowsEndOfData() throws {
        let (source, file, clean) = try Self.material()
        var decoder = FLACDecoder(streamInfo: clean.metadata.streamInfo)
        let frame = Array(file[clean.frames[2].byteOffset..<clean.frames[3].byteOffset])
        for length in 1..<frame.count {
            do {
                _ = try decoder.decodeFrames(Array(frame[..<length]))
                Issue.record("a frame cut to \(length) of \(frame.count) bytes decoded")
            } catch {
                guard case .endOfData = error else { Issue.record("cut to \(length): \(error)"); continue }
            }
        }
        // A whole stream cut in its last frame: everything before decodes, the rest is counted.
        let cut = Array(file[..<(clean.frames.last!.byteOffset + 30)])
        let result = try FLACStreamDecoder.decode(cut)
        #expect(result.frames.count == clean.frames.count - 1)
        #expect(result.damagedFrames == 1)
        #expect(result.trailingBytes == 30)
        Self.expectFramesMatchSource(result, source)
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing))
    func truncatedCodecHeaderIsRefused() throws {
        let (_, file, clean) = try Self.material()
        var blockEnds: Set<Int> = []
        var position = 4
        while position < clean.metadata.audioOffset {
            let length = Int(file[position + 1]) << 16 | Int(file[position + 2]) << 8 | Int(file[position + 3])
            position += 4 + length
            blockEnds.insert(position)
        }
        for length in 0..<clean.metadata.audioOffset {
            do {
                _ = try FLACDecoder(header: Array(file[..<length]))
                #expect(blockEnds.contains(length), "header cut to \(length) bytes was accepted")
            } catch {
                guard case .badHeader = error else { Issue.record("\(error)"); continue }
            }
        }
        #expect(throws: DecoderError.self) { try FLACDecoder(header: Array("RIFF....WAVE".utf8)) }
    }

    @Test func randomBytesNeverTrap() {
        var random = FLACDecoderRandom(seed: 7)
        for iteration in 0..<3000 {
            let length = Int.random(in: 0...(iteration % 10 == 0 ? 4000 : 300), using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Some start like a stream or a frame, to get past the first checks.
            switch iteration % 4 {
            case 1: bytes = Array("fLaC".utf8) + [0x80, 0, 0, 34] + FLACFuzz.fallbackInfo.bytes + bytes
            case 2: bytes = [0xFF, 0xF8] + bytes
            default: break
            }
            FLACFuzz.run(data: bytes)
        }
    }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing))
    func mutatedStreamsNeverTrap() throws {
        let (_, file, _) = try Self.material()
        let small = Array(file.prefix(12_000))
        var random = FLACDecoderRandom(seed: 11)
        for iteration in 0..<600 {
            var bytes = small
            switch iteration % 4 {
            case 0:
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let bit = Int.random(in: 0..<(bytes.count * 8), using: &random)
                    bytes[bit / 8] ^= 1 << UInt8(bit % 8)
                }
            case 1:
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes.replaceSubrange(at..<min(at + 16, bytes.count), with: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 2:
                bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &random)...)
            default:
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes.insert(contentsOf: [0xFF, 0xF8, UInt8.random(in: 0...255, using: &random)], at: at)
            }
            FLACFuzz.run(data: bytes)
        }
    }
}
