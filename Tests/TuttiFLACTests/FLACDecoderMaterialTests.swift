import Foundation
import Testing
import TuttiTiming
@testable import TuttiFLAC

/// The project's seeded generator, so test material is the same on every run.
typealias FLACDecoderRandom = SeededRandom

/// Test signals for the decoder tests, as integer samples per channel.
enum FLACDecoderMaterial {
    enum Signal: String, CaseIterable, Sendable {
        /// A few sines with envelopes, different per channel, plus a little noise.
        case music
        /// All zero.
        case silence
        /// A full-scale square wave (extreme values, long constant runs).
        case square
        /// Uniform white noise at full scale (incompressible: verbatim and escape partitions).
        case noise
        /// Music whose low three bits are always zero (the "wasted bits" of a subframe).
        case wasted
    }

    /// `frames` samples per channel of `signal` at `bits` bits, `channels` channels.
    static func make(_ signal: Signal, frames: Int, channels: Int, bits: Int, rate: Int = 44_100, seed: UInt64 = 1) -> [[Int32]] {
        var random = FLACDecoderRandom(seed: seed)
        let maxValue = Int64(1) << (bits - 1) - 1
        let minValue = -(Int64(1) << (bits - 1))
        func clamp(_ value: Double) -> Int32 {
            Int32(truncatingIfNeeded: min(max(Int64(value.rounded()), minValue), maxValue))
        }
        return (0..<channels).map { channel in
            switch signal {
            case .silence:
                return [Int32](repeating: 0, count: frames)
            case .square:
                let period = 100 + channel * 17
                return (0..<frames).map { i in Int32(truncatingIfNeeded: (i / (period / 2)) % 2 == 0 ? maxValue : minValue) }
            case .noise:
                return (0..<frames).map { _ in Int32(truncatingIfNeeded: Int64.random(in: minValue...maxValue, using: &random)) }
            case .wasted:
                return make(.music, frames: frames, channels: channels, bits: bits - 3, rate: rate, seed: seed)[channel].map { $0 << 3 }
            case .music:
                let full = Double(maxValue)
                let notes: [(Double, Double)] = [(220, 0.30), (330 * (1 + Double(channel) * 0.01), 0.20), (523.25, 0.12), (1760, 0.04)]
                return (0..<frames).map { i in
                    let t = Double(i) / Double(rate)
                    var value = 0.0
                    for (index, (frequency, amplitude)) in notes.enumerated() {
                        let beat = t * 2 + Double(index) * 0.25
                        let envelope = exp(-3 * (beat - beat.rounded(.down)))
                        value += amplitude * envelope * sin(2 * .pi * frequency * t + Double(channel))
                    }
                    value += Double.random(in: -0.002...0.002, using: &random)
                    return clamp(value * full)
                }
            }
        }
    }

    /// Interleaved little-endian signed raw PCM, `(bits + 7) / 8` bytes per sample, as `flac
    /// --force-raw-format --sign=signed --endian=little` reads it.
    static func raw(_ samples: [[Int32]], bits: Int) -> [UInt8] {
        let width = (bits + 7) / 8
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count * (samples.first?.count ?? 0) * width)
        for i in 0..<(samples.first?.count ?? 0) {
            for channel in samples.indices {
                let value = UInt32(bitPattern: samples[channel][i])
                for b in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(b)))) }
            }
        }
        return bytes
    }
}

extension FLACDecoderMaterial {
    /// A WAVE_FORMAT_EXTENSIBLE file whose samples of `bits` bits sit left-aligned in whole-byte
    /// containers (8-bit containers unsigned, as WAV has them): how `flac` takes 4-, 12- or
    /// 20-bit audio, which its raw input refuses.
    static func wav(_ samples: [[Int32]], bits: Int, rate: Int) -> [UInt8] {
        let container = (bits + 7) / 8 * 8
        let channels = samples.count
        let frames = samples.first?.count ?? 0
        var data: [UInt8] = []
        data.reserveCapacity(frames * channels * container / 8)
        for i in 0..<frames {
            for channel in 0..<channels {
                var value = UInt32(bitPattern: samples[channel][i] << Int32(container - bits))
                if container == 8 { value = value &+ 128 }
                for b in 0..<(container / 8) { data.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(b)))) }
            }
        }
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let blockAlign = channels * container / 8
        let pcmGUID: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let channelMask = [0x4, 0x3, 0x7, 0x33, 0x37, 0x3F, 0x13F, 0x63F][channels - 1]
        var format = le(0xFFFE, 2) + le(channels, 2) + le(rate, 4) + le(rate * blockAlign, 4) + le(blockAlign, 2)
        format += le(container, 2) + le(22, 2) + le(bits, 2) + le(channelMask, 4) + pcmGUID
        var body = Array("WAVE".utf8) + Array("fmt ".utf8) + le(format.count, 4) + format
        body += Array("data".utf8) + le(data.count, 4) + data
        return Array("RIFF".utf8) + le(body.count, 4) + body
    }
}

/// Running the `flac` command-line tool (Debian package `flac`).
enum FLACTool {
    /// The tool's path, or nil when it is not installed.
    static let path: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/flac"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Why tests that need the tool are skipped.
    static let missing: Comment = "the `flac` command-line tool is not installed (apt-get install flac)"

    /// Encodes `samples` with `flac` and the given options; returns the .flac bytes.
    static func encode(_ samples: [[Int32]], bits: Int, rate: Int, options: [String]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-flacdec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.flac")
        let input: URL
        var arguments = ["--silent", "--force"]
        if bits % 8 == 0 {
            input = directory.appendingPathComponent("in.raw")
            try Data(FLACDecoderMaterial.raw(samples, bits: bits)).write(to: input)
            arguments += [
                "--force-raw-format", "--endian=little", "--sign=signed",
                "--channels=\(samples.count)", "--bps=\(bits)", "--sample-rate=\(rate)",
            ]
        } else {
            input = directory.appendingPathComponent("in.wav")
            try Data(FLACDecoderMaterial.wav(samples, bits: bits, rate: rate)).write(to: input)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = arguments + options + ["-o", output.path, input.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FLACToolError(message: "flac \(options) failed: \(String(decoding: message, as: UTF8.self))")
        }
        return Array(try Data(contentsOf: output))
    }

    struct FLACToolError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}

struct FLACDecoderMaterialTests {
    @Test func materialIsDeterministicAndInRange() {
        let a = FLACDecoderMaterial.make(.music, frames: 1000, channels: 2, bits: 16)
        let b = FLACDecoderMaterial.make(.music, frames: 1000, channels: 2, bits: 16)
        #expect(a == b)
        #expect(a.allSatisfy { $0.allSatisfy { (-32768...32767).contains($0) } })
        let noise = FLACDecoderMaterial.make(.noise, frames: 1000, channels: 1, bits: 24)
        #expect(noise[0].allSatisfy { (-8_388_608...8_388_607).contains($0) })
        #expect(FLACDecoderMaterial.raw([[1, -2]], bits: 24) == [1, 0, 0, 0xFE, 0xFF, 0xFF])
    }
}
