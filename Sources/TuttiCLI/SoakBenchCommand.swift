import ArgumentParser
import Foundation
import TuttiHarness

/// `tutti bench soak`: a real long run — a `tutti server` process and N `tutti speaker`
/// processes playing music for minutes — with every process's memory and CPU sampled at a
/// fixed interval, and dropouts counted from outside (pauses and digital silence in each
/// speaker's pipe output after it started playing).
struct SoakBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak", abstract: "A long run: memory and CPU of the server and N speakers over time, dropouts counted from outside.")

    @Option(name: .long, help: "Speakers.") var speakers = 8
    @Option(name: .long, help: "Minutes to run.") var minutes = 10.0
    @Option(name: .customLong("interval-s"), help: "Seconds between samples.") var intervalSeconds = 10.0

    func validate() throws {
        guard (1...32).contains(speakers) else { throw ValidationError("--speakers must be 1…32") }
        guard minutes > 0, minutes <= 24 * 60 else { throw ValidationError("--minutes must be up to a day") }
        guard intervalSeconds >= 1 else { throw ValidationError("--interval-s must be at least 1") }
    }

    func run() async throws {
        let executable = currentExecutablePath()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-soak-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = freeLoopbackPort()
        let server = try ChildProcess(executable, [
            "server", "--source", "tone://?name=music&kind=music", "--bind", "127.0.0.1", "--stream-port", "\(port)",
            "--control-port", "0", "--http-port", "0", "--data-dir", directory,
        ])
        defer { server.stop() }
        guard waitUntil(seconds: 10, { server.errorText.contains("serving") || !server.isRunning }), server.isRunning else {
            throw fail("tutti bench soak: the server did not start: \(server.errorText)")
        }
        let players = try (0..<speakers).map { index in
            try ChildProcess(executable, ["speaker", "--server", "127.0.0.1:\(port)", "--id", "soak-\(index + 1)", "--output", "pipe:stdout", "--log-level", "error"])
        }
        defer { players.forEach { $0.stop() } }
        say("tutti bench soak: 1 server and \(speakers) speakers (separate processes) play music for \(minutes) min; sampled every \(Int(intervalSeconds)) s")
        say("")
        say("| time | server RSS MB | server CPU % | speaker RSS MB (mean / max) | speaker CPU % (mean) |")
        say("|---:|---:|---:|---:|---:|")
        let started = monotonicNanos()
        var previous: (time: Int64, server: Double, speakers: [Double])?
        var rows: [(server: Double, speakers: [Double])] = []
        while true {
            let now = monotonicNanos()
            let stats = (server: ProcessStats.read(pid: server.pid), speakers: players.map { ProcessStats.read(pid: $0.pid) })
            let speakerRSS = stats.speakers.map { Double($0?.residentBytes ?? 0) / 1_048_576 }
            let serverRSS = Double(stats.server?.residentBytes ?? 0) / 1_048_576
            if let previous {
                let seconds = Double(now - previous.time) / 1e9
                let serverCPU = ((stats.server?.cpuSeconds ?? 0) - previous.server) / seconds * 100
                let speakerCPU = zip(stats.speakers, previous.speakers).map { (($0?.cpuSeconds ?? 0) - $1) / seconds * 100 }
                say(String(format: "| %5.0f s | %.1f | %.2f | %.1f / %.1f | %.2f |", Double(now - started) / 1e9, serverRSS, serverCPU,
                           speakerRSS.reduce(0, +) / Double(speakers), speakerRSS.max() ?? 0, speakerCPU.reduce(0, +) / Double(speakers)))
                rows.append((serverRSS, speakerRSS))
            }
            previous = (now, stats.server?.cpuSeconds ?? 0, stats.speakers.map { $0?.cpuSeconds ?? 0 })
            if Double(now - started) / 1e9 >= minutes * 60 { break }
            try await Task.sleep(for: .seconds(intervalSeconds))
        }
        players.forEach { $0.stop() }
        say("")
        if let first = rows.first, let last = rows.last {
            let firstMean = first.speakers.reduce(0, +) / Double(speakers), lastMean = last.speakers.reduce(0, +) / Double(speakers)
            say(String(format: "memory from the first sample to the last: server %.1f → %.1f MB, speakers (mean) %.1f → %.1f MB",
                       first.server, last.server, firstMean, lastMean))
        }
        // Dropouts, from outside: after each speaker's first audible output, a pause of more than
        // 100 ms between its writes, or a write of digital silence (the music is never silent).
        var dropouts: [String] = []
        for (index, player) in players.enumerated() {
            let reads = player.reads.drop { read in read.bytes.allSatisfy { $0 == 0 } }
            let pauses = zip(reads, reads.dropFirst()).filter { $1.arrival - $0.arrival > 100_000_000 }.count
            let silent = reads.filter { read in read.bytes.count >= 64 && read.bytes.allSatisfy { $0 == 0 } }.count
            let seconds = Double(reads.map(\.bytes.count).reduce(0, +)) / 192_000
            dropouts.append(String(format: "soak-%d: %.0f s played, %d pauses > 100 ms, %d silent writes", index + 1, seconds, pauses, silent))
        }
        say("dropouts (from each speaker's output):\n  " + dropouts.joined(separator: "\n  "))
    }
}
