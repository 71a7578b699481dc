import Foundation
import Testing
import TuttiAudio
@testable import TuttiFLAC

/// Streams from the encoder, checked by the reference tools: `flac -t` accepts them (MD5
/// included for files) and `flac -d` gives back exactly the input samples.
@Suite struct FLACEncoderRoundTripTests {
    static let formats: [SampleFormat] = [
        SampleFormat(rate: 48000, bits: 16, channels: 2),
        SampleFormat(rate: 48000, bits: 24, channels: 2),
        SampleFormat(rate: 44100, bits: 16, channels: 1),
        SampleFormat(rate: 48000, bits: 16, channels: 6),
        SampleFormat(rate: 22050, bits: 8, channels: 1),
    ]

    @Test(
        "flac -t accepts the file and flac -d returns the input exactly",
        .enabled(if: FLACEncoderReferenceTool.path != nil, FLACEncoderReferenceTool.missing),
        arguments: 0...8, FLACEncoderMaterial.Kind.allCases)
    func referenceDecoderReturnsTheInput(level: Int, kind: FLACEncoderMaterial.Kind) throws {
        for format in Self.formats {
            // 0.3 s plus a partial block, so every file ends on a short frame.
            let frames = format.rate * 3 / 10 + 77
            let samples = FLACEncoderMaterial.samples(kind, frames: frames, format: format)
            let file = FLACEncoder.encodeFile(samples: samples, format: format, level: level)
            let decoded = try FLACEncoderReferenceTool.decode(file)
            #expect(decoded == FLACEncoderMaterial.rawBytes(samples, bits: format.bits), "level \(level), \(kind), \(format)")
        }
    }

    @Test("STREAMINFO of a file has the totals, frame sizes and MD5")
    func fileStreamInfoIsComplete() throws {
        let format = SampleFormat(rate: 48000, bits: 24, channels: 2)
        let samples = FLACEncoderMaterial.samples(.music, frames: 10_000, format: format)
        let file = FLACEncoder.encodeFile(samples: samples, format: format, level: 5)
        #expect(Array(file[0..<4]) == Array("fLaC".utf8))
        let info = try FLACStreamInfo(parsing: Array(file[8..<42]))
        #expect(info.totalSamples == 10_000)
        #expect(info.minBlockSize == 4096 && info.maxBlockSize == 4096)
        #expect(info.minFrameSize > 0 && info.maxFrameSize >= info.minFrameSize)
        var md5 = MD5()
        FLACEncoderMaterial.rawBytes(samples, bits: 24).withUnsafeBytes { md5.update($0) }
        #expect(info.md5 == md5.finish())
    }

    @Test("an empty file is metadata only, and flac -t accepts it", .enabled(if: FLACEncoderReferenceTool.path != nil, FLACEncoderReferenceTool.missing))
    func emptyFile() throws {
        let file = FLACEncoder.encodeFile(samples: [], format: .cd48k, level: 5)
        #expect(try FLACEncoderReferenceTool.decode(file).isEmpty)
    }

    @Test("MD5 matches RFC 1321's test vectors")
    func md5Vectors() {
        func hex(_ text: String) -> String {
            var md5 = MD5()
            Array(text.utf8).withUnsafeBytes { md5.update($0) }
            return md5.finish().map { String(format: "%02x", $0) }.joined()
        }
        #expect(hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(String(repeating: "1234567890", count: 8)) == "57edf4a22be3c955ac49da2e2107b67a")
    }
}

/// Deterministic test material, interleaved at the format's bit depth.
enum FLACEncoderMaterial {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case silence, square, noise, music
        var testDescription: String { rawValue }
    }

    static func samples(_ kind: Kind, frames: Int, format: SampleFormat, seed: UInt64 = 7) -> [Int32] {
        let peak = Double((1 << (format.bits - 1)) - 1)
        let low = -Int32(1 << (format.bits - 1))
        var state = seed
        func random() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(Int64(bitPattern: state) >> 11) / Double(1 << 52)
        }
        var out = [Int32](repeating: 0, count: frames * format.channels)
        for i in 0..<frames {
            let t = Double(i) / Double(format.rate)
            for c in 0..<format.channels {
                let value: Int32
                switch kind {
                case .silence:
                    value = 0
                case .square:
                    value = (i / 50 + c) % 2 == 0 ? Int32(peak) : low
                case .noise:
                    value = Int32(max(min(random() * peak, peak), Double(low)))
                case .music:
                    let detune = 1 + 0.002 * Double(c)
                    let envelope = exp(-3 * t.truncatingRemainder(dividingBy: 0.25))
                    var v = 0.0
                    for (n, f) in [220.0, 277.2, 329.6].enumerated() {
                        v += 0.2 / Double(n + 1) * sin(2 * .pi * f * detune * t) * envelope
                        v += 0.05 / Double(n + 1) * sin(4 * .pi * f * detune * t)
                    }
                    v += 0.02 * random() * exp(-40 * t.truncatingRemainder(dividingBy: 0.125))
                    value = Int32(v * peak)
                }
                out[i * format.channels + c] = value
            }
        }
        return out
    }

    /// Little-endian samples of whole bytes (three for 24-bit), as `flac -d` writes raw output.
    static func rawBytes(_ samples: [Int32], bits: Int) -> [UInt8] {
        let width = (bits + 7) / 8
        var bytes = [UInt8](repeating: 0, count: samples.count * width)
        for (i, sample) in samples.enumerated() {
            for b in 0..<width { bytes[i * width + b] = UInt8(truncatingIfNeeded: sample >> Int32(8 * b)) }
        }
        return bytes
    }

    /// PCM in the Snapcast container layout (24-bit samples in 4 bytes).
    static func pcm(_ samples: [Int32], format: SampleFormat) -> [UInt8] {
        let width = format.bytesPerSample
        var bytes = [UInt8](repeating: 0, count: samples.count * width)
        for (i, sample) in samples.enumerated() {
            for b in 0..<width { bytes[i * width + b] = UInt8(truncatingIfNeeded: sample >> Int32(8 * b)) }
        }
        return bytes
    }
}

/// The reference `flac` command-line tool.
enum FLACEncoderReferenceTool {
    static let path: String? = ["/usr/bin/flac", "/usr/local/bin/flac", "/opt/homebrew/bin/flac"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let missing: Comment = "needs the flac command-line tool (Debian package flac)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Tests `stream` with `flac -t`, then decodes it with `flac -d` to raw little-endian
    /// samples; throws with flac's messages when either fails.
    static func decode(_ stream: [UInt8]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-flacenc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.flac").path
        let output = directory.appendingPathComponent("out.raw").path
        try Data(stream).write(to: URL(fileURLWithPath: input))
        let test = try run(["-t", "-s", input])
        guard test.status == 0 else { throw Failure(description: "flac -t failed: \(test.errors)") }
        let decode = try run(["-d", "-s", "-f", "--force-raw-format", "--endian=little", "--sign=signed", "-o", output, input])
        guard decode.status == 0 else { throw Failure(description: "flac -d failed: \(decode.errors)") }
        return [UInt8](FileManager.default.contents(atPath: output) ?? Data())
    }

    private static func run(_ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, errors)
    }
}
