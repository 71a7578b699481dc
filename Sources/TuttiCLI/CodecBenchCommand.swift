import ArgumentParser
import Foundation
import TuttiAudio
import TuttiFLAC
import TuttiHarness
import TuttiSources

/// `tutti bench codec`: Tutti's FLAC beside the reference `flac` tool, level by level, on the
/// same music-like material, in one run: compression ratio, encode and decode speed.
struct CodecBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "FLAC ratio and speed per level: Tutti vs the flac command-line tool.",
        discussion: "Build in release for meaningful speeds: swift run -c release tutti bench codec"
    )

    @Option(name: .long, help: "Seconds of generated music-like material (48000:16:2).")
    var seconds: Int = 60

    @Option(name: .long, help: "Runs per measurement; the best (fastest) counts.")
    var repeats: Int = 3

    @Option(name: .long, help: "Levels, comma-separated.")
    var levels: String = "0,1,2,3,4,5,6,7,8"

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600") }
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be 1...20") }
    }

    func run() async throws {
        let levelList = levels.split(separator: ",").compactMap { Int($0) }.filter { (0...8).contains($0) }
        let format = SampleFormat.cd48k
        let pcm = Self.material(seconds: seconds, format: format)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-codec-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wav = "\(directory)/material.wav"
        try save(Data(WAVHeader.canonicalBytes(for: format, dataSize: UInt64(pcm.count)) + pcm), to: wav)
        let flac = which("flac")
        #if DEBUG
        say("note: this is a debug build; speeds mean little. Use: swift run -c release tutti bench codec")
        #endif
        say("tutti bench codec: \(seconds) s of music-like 48000:16:2, best of \(repeats); flac tool: \(flac ?? "not installed (apt-get install flac)")")
        var rows = [
            "| level | flac ratio | tutti ratio | size vs flac | flac encode × RT | tutti encode × RT | flac decode × RT | tutti decode × RT |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for level in levelList {
            var tuttiBytes: [UInt8] = []
            let tuttiEncode = best { () -> Void in
                var writer = FLACFileWriter(format: format, level: level)
                pcm.withUnsafeBytes { writer.append($0) }
                tuttiBytes = writer.finish()
            }
            let tuttiDecode = best {
                _ = tuttiBytes.withUnsafeBytes { try? FLACStreamDecoder.decode($0) }
            }
            let verified = tuttiBytes.withUnsafeBytes { bytes in
                (try? FLACStreamDecoder.decode(bytes)).map { Self.interleaved($0.samples) == pcm } ?? false
            }
            var flacSize: Int?, flacEncode: Double?, flacDecode: Double?
            if let flac {
                let out = "\(directory)/ref-\(level).flac"
                flacEncode = best { _ = Self.runTool(flac, ["-\(level)", "-f", "-s", "-o", out, wav]) }
                flacSize = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? nil
                flacDecode = best { _ = Self.runTool(flac, ["-d", "-f", "-s", "-o", "\(directory)/ref-\(level).wav", out]) }
            }
            let rt = Double(seconds)
            func speed(_ t: Double?) -> String { t.map { String(format: "%.0f", rt / $0) } ?? "–" }
            func ratio(_ size: Int?) -> String { size.map { String(format: "%.3f", Double($0) / Double(pcm.count)) } ?? "–" }
            let versus = flacSize.map { String(format: "%+.2f%%", 100 * (Double(tuttiBytes.count) / Double($0) - 1)) } ?? "–"
            rows.append("| \(level) | \(ratio(flacSize)) | \(ratio(tuttiBytes.count))\(verified ? "" : " (MISMATCH)") | \(versus) | \(speed(flacEncode)) | \(speed(tuttiEncode)) | \(speed(flacDecode)) | \(speed(tuttiDecode)) |")
            say(rows.last!)
        }
        say("\n" + rows.joined(separator: "\n"))
        say("ratio = compressed / PCM bytes; × RT = seconds of audio per second of wall time (flac: whole process, file to file)")
    }

    /// The fastest of `repeats` runs of `body`, in seconds.
    private func best(_ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<repeats {
            let start = monotonicNanos()
            body()
            fastest = min(fastest, Double(monotonicNanos() - start) / 1e9)
        }
        return fastest
    }

    static func material(seconds: Int, format: SampleFormat) -> [UInt8] {
        let source = SignalSource(kind: .music, format: format)
        var bytes = [UInt8](repeating: 0, count: seconds * format.rate * format.bytesPerFrame)
        var filled = 0
        bytes.withUnsafeMutableBytes { buffer in
            while filled < buffer.count {
                guard case .bytes(let count) = try? source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), timeoutNanoseconds: 0) else { break }
                filled += count
            }
        }
        return bytes
    }

    static func interleaved(_ channels: [[Int32]]) -> [UInt8] {
        guard let frames = channels.first?.count else { return [] }
        var bytes = [UInt8]()
        bytes.reserveCapacity(frames * channels.count * 2)
        for frame in 0..<frames {
            for channel in channels { withUnsafeBytes(of: Int16(truncatingIfNeeded: channel[frame]).littleEndian) { bytes.append(contentsOf: $0) } }
        }
        return bytes
    }

    static func runTool(_ path: String, _ arguments: [String]) -> Int32? {
        guard let process = try? ChildProcess(path, arguments) else { return nil }
        return process.waitForExit(seconds: 600)
    }
}
