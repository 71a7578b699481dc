import Testing
import TuttiAudio
import TuttiSources

@Suite("SignalSource")
struct SignalSourceTests {
    static let formats: [SampleFormat] = [
        SampleFormat(rate: 48_000, bits: 8, channels: 1),
        SampleFormat(rate: 48_000, bits: 16, channels: 2),
        SampleFormat(rate: 44_100, bits: 24, channels: 2),
        SampleFormat(rate: 96_000, bits: 32, channels: 3),
    ]

    /// Decodes little-endian samples of channel `channel` to -1...1.
    static func samples(_ bytes: [UInt8], format: SampleFormat, channel: Int = 0) -> [Double] {
        let size = format.bytesPerSample
        return stride(from: channel * size, to: bytes.count - size + 1, by: format.bytesPerFrame).map { offset in
            switch format.bits {
            case 8: return Double(Int8(bitPattern: bytes[offset])) / 127
            case 16: return Double(Int16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)) / 32_767
            default:
                let raw = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
                return Double(Int32(bitPattern: raw)) / (format.bits == 24 ? 8_388_607 : 2_147_483_647)
            }
        }
    }

    static func zeroCrossings(_ values: [Double]) -> Int {
        zip(values, values.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
    }

    @Test("a tone crosses zero twice per cycle", arguments: [100.0, 440.0, 1000.0, 5000.0])
    func toneFrequency(frequency: Double) throws {
        let format = SampleFormat(rate: 48_000, bits: 16, channels: 1)
        let source = SignalSource(kind: .tone, frequency: frequency, format: format)
        let bytes = try readBytes(from: source, count: format.rate * format.bytesPerFrame)  // one second
        let crossings = Self.zeroCrossings(Self.samples(bytes, format: format))
        #expect(abs(Double(crossings) - 2 * frequency) <= 2)
    }

    @Test("every format: the right level in every channel, 24-bit sign-extended", arguments: formats)
    func allFormats(format: SampleFormat) throws {
        let source = SignalSource(kind: .tone, frequency: 1000, amplitude: 0.5, format: format)
        let bytes = try readBytes(from: source, count: format.frames(milliseconds: 100) * format.bytesPerFrame)
        for channel in 0..<format.channels {
            let values = Self.samples(bytes, format: format, channel: channel)
            let peak = values.map(abs).max() ?? 0
            #expect(abs(peak - 0.5) < 0.02, "channel \(channel): peak \(peak)")
            #expect(abs(Double(Self.zeroCrossings(values)) - 200) <= 2)
        }
        if format.bits == 24 {
            for offset in stride(from: 0, to: bytes.count, by: 4) {
                #expect(bytes[offset + 3] == (bytes[offset + 2] & 0x80 == 0 ? 0 : 0xFF))
            }
        }
    }

    @Test("reads of any size, even splitting frames, give the same bytes as one big read", arguments: SourceURI.SignalKind.allCases)
    func continuity(kind: SourceURI.SignalKind) throws {
        let format = SampleFormat(rate: 48_000, bits: 24, channels: 2)
        let total = format.bytesPerFrame * 4_800
        let whole = try readBytes(from: SignalSource(kind: kind, format: format), count: total)
        let pieces = SignalSource(kind: kind, format: format)
        var collected: [UInt8] = []
        var size = 1
        while collected.count < total {
            collected += try readBytes(from: pieces, count: min(size, total - collected.count))
            size = size * 3 % 997 + 1
        }
        #expect(collected == whole)
    }

    @Test("music: deterministic per seed, stereo, not silent, not clipping hard")
    func music() throws {
        let format = SampleFormat.cd48k
        let count = format.rate * 4 * format.bytesPerFrame  // four seconds: two chords
        let a = try readBytes(from: SignalSource(kind: .music, amplitude: 0.8, format: format), count: count)
        let b = try readBytes(from: SignalSource(kind: .music, amplitude: 0.8, format: format), count: count)
        let other = try readBytes(from: SignalSource(kind: .music, amplitude: 0.8, format: format, seed: 99), count: count)
        #expect(a == b)
        #expect(a != other)
        let left = Self.samples(a, format: format, channel: 0)
        let right = Self.samples(a, format: format, channel: 1)
        let rms = (left.map { $0 * $0 }.reduce(0, +) / Double(left.count)).squareRoot()
        #expect(rms > 0.05 && rms < 0.5, "rms \(rms)")
        #expect(zip(left, right).filter { abs($0 - $1) > 0.01 }.count > left.count / 4)
        #expect(left.filter { abs($0) >= 0.8 }.count < left.count / 1000)
    }

    @Test("sweep rises: later windows cross zero more often")
    func sweepRises() throws {
        let format = SampleFormat(rate: 48_000, bits: 16, channels: 1)
        let bytes = try readBytes(from: SignalSource(kind: .sweep, format: format), count: format.rate * 10 * 2)
        let values = Self.samples(bytes, format: format)
        let early = Self.zeroCrossings(Array(values[48_000..<96_000]))  // around 40 Hz
        let late = Self.zeroCrossings(Array(values[432_000..<480_000]))  // around 10-20 kHz
        #expect(early < 200)
        #expect(late > 10_000)
    }
}
