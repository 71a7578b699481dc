import Testing
import TuttiAudio
@testable import TuttiFLAC

/// Streams made by the reference `flac` tool decode to exactly the samples it was given.
struct FLACDecoderBitExactTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var signal: FLACDecoderMaterial.Signal = .music
        var channels = 2
        var bits = 16
        var rate = 44_100
        var frames = 30_000
        var options: [String]
        var testDescription: String { "\(signal) \(rate):\(bits):\(channels) \(options.joined(separator: " "))" }
    }

    static let levels: [Case] = (0...8).map { Case(options: ["-\($0)"]) }

    static let signals: [Case] = FLACDecoderMaterial.Signal.allCases.flatMap { signal in
        ["-0", "-5", "-8"].map { Case(signal: signal, options: [$0]) }
    }

    static let shapes: [Case] = [
        // Block size codes: 8-bit and 16-bit explicit, the 192/576·2^n and 256·2^n tables.
        Case(options: ["-5", "--blocksize=16"]),
        Case(options: ["-5", "--blocksize=100"]),
        Case(options: ["-5", "--blocksize=192"]),
        Case(options: ["-5", "--blocksize=1000"]),
        Case(options: ["-8", "--blocksize=2304"]),
        Case(options: ["-8", "--blocksize=16384", "--lax"]),
        Case(frames: 140_000, options: ["-8", "--blocksize=65535", "--lax"]),
        // High LPC orders and precisions, exhaustive searches, Rice partition orders.
        Case(options: ["-8", "-l", "32", "--lax"]),
        Case(options: ["-8", "-l", "32", "-q", "15", "--lax"]),
        Case(options: ["-8", "-e", "-p", "-r", "0,15", "--lax"]),
        Case(options: ["-5", "-l", "12", "-q", "5"]),
        Case(signal: .noise, options: ["-8", "-r", "8"]),
        // Sample rate codes: table, 8-bit kHz, 16-bit Hz, 16-bit tens of Hz.
        Case(rate: 8_000, options: ["-5"]),
        Case(rate: 7_000, options: ["-5", "--lax"]),
        Case(rate: 11_025, options: ["-5"]),
        Case(rate: 100_000, options: ["-5", "--lax"]),
        Case(rate: 192_000, options: ["-5"]),
        // Channel layouts and sample sizes.
        Case(channels: 1, options: ["-8"]),
        Case(channels: 1, bits: 24, rate: 96_000, options: ["-8"]),
        Case(channels: 2, bits: 24, rate: 96_000, options: ["-5"]),
        Case(channels: 2, bits: 24, rate: 48_000, options: ["-8", "-l", "32", "--lax"]),
        Case(channels: 6, rate: 48_000, options: ["-5"]),
        Case(channels: 8, bits: 24, rate: 48_000, options: ["-8"]),
        Case(signal: .noise, channels: 6, bits: 24, rate: 48_000, options: ["-0"]),
        Case(channels: 2, bits: 8, options: ["-5"]),
        Case(signal: .noise, channels: 2, bits: 8, options: ["-8"]),
        Case(channels: 2, bits: 12, options: ["-5"]),
        Case(channels: 2, bits: 20, options: ["-8"]),
        Case(channels: 2, bits: 32, options: ["-8"]),
        Case(signal: .noise, channels: 2, bits: 32, options: ["-5"]),
        Case(signal: .square, channels: 2, bits: 32, options: ["-8"]),
        Case(channels: 1, bits: 4, options: ["-5", "--lax"]),
        Case(channels: 2, bits: 12, rate: 48_000, options: ["-8"]),
        // Wasted bits: every sample's low bits zero.
        Case(signal: .wasted, options: ["-5"]),
        Case(signal: .wasted, channels: 2, bits: 24, options: ["-8"]),
        Case(signal: .wasted, channels: 2, bits: 32, options: ["-8"]),
        // Stereo decorrelation choices forced one way or the other.
        Case(options: ["-8", "-m"]),
        Case(options: ["-8", "-M"]),
        Case(signal: .square, options: ["-8", "-m"]),
    ]

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing), arguments: levels)
    func level(_ c: Case) throws { try check(c) }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing), arguments: signals)
    func signal(_ c: Case) throws { try check(c) }

    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing), arguments: shapes)
    func shape(_ c: Case) throws { try check(c) }

    /// Encodes the case's material with `flac`, decodes it and compares every sample.
    func check(_ c: Case) throws {
        let source = FLACDecoderMaterial.make(c.signal, frames: c.frames, channels: c.channels, bits: c.bits, rate: c.rate)
        let file = try FLACTool.encode(source, bits: c.bits, rate: c.rate, options: c.options)
        let result = try FLACStreamDecoder.decode(file)
        #expect(result.damagedFrames == 0, "errors: \(result.errors)")
        #expect(result.trailingBytes == 0)
        #expect(result.metadata.streamInfo.channels == c.channels)
        #expect(result.metadata.streamInfo.bitsPerSample == c.bits)
        #expect(result.metadata.streamInfo.sampleRate == c.rate)
        #expect(result.samples.count == c.channels)
        for channel in 0..<c.channels {
            let decoded = result.samples[channel]
            #expect(decoded.count == c.frames)
            if decoded != source[channel] {
                let first = zip(decoded, source[channel]).enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record("channel \(channel) differs first at \(first.map { "\($0.offset): \($0.element)" } ?? "length")")
            }
        }
    }

    /// The chunk decoder gives the same samples, as Floats scaled by 2^(bits−1), from a codec
    /// header cut at the first frame and chunks of whole frames, as Snapcast sends them.
    @Test(.enabled(if: FLACTool.path != nil, FLACTool.missing), arguments: [16, 24])
    func chunksFromCodecHeader(bits: Int) throws {
        let source = FLACDecoderMaterial.make(.music, frames: 20_000, channels: 2, bits: bits)
        let file = try FLACTool.encode(source, bits: bits, rate: 48_000, options: ["-5", "--blocksize=1152"])
        let stream = try FLACStreamDecoder.decode(file)
        let header = Array(file[..<stream.metadata.audioOffset])
        var decoder = try FLACDecoder(header: header)
        #expect(decoder.format == SampleFormat(rate: 48_000, bits: bits, channels: 2))
        var floats: [Float] = []
        var start = stream.metadata.audioOffset
        // Chunks of three frames each (the last one shorter).
        for group in stride(from: 0, to: stream.frames.count, by: 3) {
            let end = group + 3 < stream.frames.count ? stream.frames[group + 3].byteOffset : file.count
            floats += try file[start..<end].withUnsafeBytes { try decoder.decode($0) }
            start = end
        }
        #expect(decoder.damagedFrames == 0)
        #expect(floats.count == source[0].count * 2)
        let scale = Float(1 << (bits - 1))
        var mismatches = 0
        for i in 0..<source[0].count {
            if floats[2 * i] != Float(source[0][i]) / scale || floats[2 * i + 1] != Float(source[1][i]) / scale { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
