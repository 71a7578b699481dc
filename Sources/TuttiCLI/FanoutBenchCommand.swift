import ArgumentParser
import Foundation
import TuttiControl
import TuttiHarness
import TuttiMeasure

/// `tutti bench fanout`: what one server costs per speaker. For each count, `tutti server` and
/// then a real `snapserver` (same music, fed through a FIFO to both, FLAC, 1000 ms buffer) serve
/// that many speakers on loopback, all started at once: real snapclients as the load (a light
/// peer, the same for both servers) and a few Tutti speakers whose output is captured and
/// compared for sync. Reported: how long until every speaker is connected, the server
/// process's CPU and memory while they play, per speaker, and the sample's skew.
struct FanoutBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Server CPU and memory per speaker at 16, 64 and 200 speakers: tutti server beside snapserver.")

    @Option(name: .long, help: "Speaker counts (comma-separated).") var speakers = "16,64,200"
    @Option(name: .long, help: "Servers to run: tutti, snapserver (comma-separated).") var servers = "tutti,snapserver"
    @Option(name: .customLong("seconds"), help: "Seconds over which the server's CPU is measured, after settling.") var seconds = 20.0
    @Option(name: .customLong("settle-s"), help: "Seconds after the last speaker connected before measuring.") var settleSeconds = 8.0
    @Option(name: .long, help: "Tutti speakers among them whose output is compared for sync.") var sample = 4

    var counts: [Int] { speakers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var kinds: [String] { servers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard !counts.isEmpty, counts.allSatisfy({ (1...500).contains($0) }) else { throw ValidationError("--speakers: counts 1…500") }
        guard !kinds.isEmpty, kinds.allSatisfy({ ["tutti", "snapserver"].contains($0) }) else { throw ValidationError("--servers: tutti, snapserver") }
        guard (0...16).contains(sample), counts.allSatisfy({ $0 >= sample }) else { throw ValidationError("--sample must be 0…16 and at most each count") }
        guard seconds >= 1, settleSeconds >= 0 else { throw ValidationError("--seconds ≥ 1, --settle-s ≥ 0") }
    }

    struct Result {
        var server: String
        var speakers: Int
        var connectedSeconds: Double?
        var cpuPercent: Double
        var residentMB: Double
        var baselineMB: Double
        var loadCPUPercent: Double
        var skew: DeviationStatistics?
    }

    func run() async throws {
        guard let snapclient = which("snapclient") else { throw fail("tutti bench fanout: snapclient is the load and is not installed (apt-get install snapclient)") }
        let snapserver = which("snapserver")
        if kinds.contains("snapserver") && snapserver == nil { say("  (snapserver not installed: apt-get install snapserver — its rows are skipped)") }
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        say("tutti bench fanout: speakers \(counts.map(String.init).joined(separator: ", ")); each: \(sample) Tutti speakers (captured) + snapclients; "
            + "CPU over \(Int(seconds)) s after \(Int(settleSeconds)) s; \(ProcessInfo.processInfo.activeProcessorCount) cores; open-file limit \(limit.rlim_cur)")
        var results: [Result] = []
        for count in counts {
            for kind in kinds {
                if kind == "snapserver" && snapserver == nil { continue }
                say("▶ \(kind), \(count) speakers")
                results.append(try await measure(kind: kind, snapserver: snapserver, snapclient: snapclient, count: count))
            }
        }
        say("")
        say(Self.table(results))
    }

    private func measure(kind: String, snapserver: String?, snapclient: String, count: Int) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-fanout-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = "\(directory)/music"
        guard mkfifo(fifo, 0o600) == 0 else { throw fail("tutti bench fanout: cannot make a FIFO in \(directory)") }
        let streamPort = freeLoopbackPort(), controlPort = freeLoopbackPort()
        let server: ChildProcess
        if kind == "tutti" {
            server = try ChildProcess(currentExecutablePath(), [
                "server", "--source", "pipe://\(fifo)?name=music", "--bind", "127.0.0.1", "--stream-port", "\(streamPort)",
                "--control-port", "\(controlPort)", "--http-port", "0", "--data-dir", "\(directory)/data", "--buffer-ms", "1000",
            ])
        } else {
            try """
                [server]
                datadir = \(directory)/data
                [stream]
                port = \(streamPort)
                source = pipe://\(fifo)?name=music&sampleformat=48000:16:2
                buffer = 1000
                [tcp]
                enabled = true
                bind_to_address = 127.0.0.1
                port = \(controlPort)
                [http]
                enabled = false
                """.write(toFile: "\(directory)/server.ini", atomically: true, encoding: .utf8)
            server = try ChildProcess(snapserver!, ["-c", "\(directory)/server.ini"])
        }
        defer { server.stop() }
        let feeder = MusicFeeder(path: fifo)
        defer { feeder.stop() }
        guard try await connectedCount(controlPort: controlPort, within: 10) != nil else {
            throw fail("tutti bench fanout: \(kind) did not start: \(server.errorText.suffix(400))")
        }
        try await Task.sleep(for: .seconds(1))
        let baseline = ProcessStats.read(pid: server.pid)

        // Every speaker at once: the captured Tutti speakers first, then the snapclients.
        let fleet = SpeakerFleet()
        let startedAt = monotonicNanos()
        for index in 0..<sample {
            let ppm = sample > 1 ? -100 + 200 * Double(index) / Double(sample - 1) : 0
            try fleet.startTuttiSpeaker(name: "sample-\(index + 1)", port: streamPort, instance: index + 1, offsetSeconds: 0.3 * Double(index), driftPPM: ppm)
        }
        let load = try (sample..<count).map { index in
            try ChildProcess(snapclient, [
                "-h", "127.0.0.1", "-p", "\(streamPort)", "--hostID", "load-\(index + 1)", "-i", "\(index + 1)",
                "--player", "file:filename=/dev/null", "--logsink", "stderr", "--logfilter", "*:error",
            ])
        }
        defer { load.forEach { $0.stop() } }
        let connectedAt = try await waitForConnected(count, controlPort: controlPort, within: 30 + Double(count) / 5)
        let connectedSeconds = connectedAt.map { Double($0 - startedAt) / 1e9 }
        if connectedSeconds == nil {
            // Which ones, and what they said (a snapclient's ID is load-N#N).
            let reached = ((try? await connectedIDs(controlPort: controlPort, within: 2)) ?? nil) ?? []
            say("  only \(reached.count) of \(count) connected; measuring anyway")
            for (offset, process) in load.enumerated() where !reached.contains("load-\(sample + offset + 1)#\(sample + offset + 1)") {
                let lines = process.errorText.split(separator: "\n").suffix(3).joined(separator: " | ")
                say("  load-\(sample + offset + 1) (\(process.isRunning ? "running" : "exited")): \(lines.prefix(300))")
            }
        }
        try await Task.sleep(for: .seconds(settleSeconds))
        let before = ProcessStats.read(pid: server.pid)
        let loadBefore = load.compactMap { ProcessStats.read(pid: $0.pid)?.cpuSeconds }.reduce(0, +)
        let windowStart = monotonicNanos()
        try await Task.sleep(for: .seconds(seconds))
        let after = ProcessStats.read(pid: server.pid)
        let loadAfter = load.compactMap { ProcessStats.read(pid: $0.pid)?.cpuSeconds }.reduce(0, +)
        let window = Double(monotonicNanos() - windowStart) / 1e9
        fleet.stopAll()
        load.forEach { $0.stop() }

        let settle = (connectedAt ?? startedAt) + Int64(settleSeconds * 1e9)
        let skew = sample >= 2 ? SyncAnalysis.analyze(fleet.captures(), startedAt: startedAt, settleAfter: settle).skew : nil
        guard let before, let after, server.isRunning else { throw fail("tutti bench fanout: \(kind) exited: \(server.errorText.suffix(400))") }
        let result = Result(
            server: kind == "tutti" ? "tutti server" : "snapserver", speakers: count, connectedSeconds: connectedSeconds,
            cpuPercent: (after.cpuSeconds - before.cpuSeconds) / window * 100, residentMB: Double(after.residentBytes) / 1_048_576,
            baselineMB: Double(baseline?.residentBytes ?? 0) / 1_048_576, loadCPUPercent: (loadAfter - loadBefore) / window * 100 / Double(max(1, load.count)),
            skew: skew)
        let connected = connectedSeconds.map { String(format: "%.1f s", $0) } ?? "–"
        say("  connected after \(connected), " + String(format: "server CPU %.1f %%, RSS %.1f MB (%.1f before the speakers)", result.cpuPercent, result.residentMB, result.baselineMB))
        return result
    }

    /// The number of connected clients the server's JSON-RPC status lists, once it answers.
    private func connectedCount(controlPort: Int, within seconds: Double) async throws -> Int? {
        try await connectedIDs(controlPort: controlPort, within: seconds)?.count
    }

    /// The IDs of the connected clients the server's JSON-RPC status lists, once it answers.
    private func connectedIDs(controlPort: Int, within seconds: Double) async throws -> Set<String>? {
        let deadline = monotonicNanos() + Int64(seconds * 1e9)
        while monotonicNanos() < deadline {
            if let ids = try? await ControlConnection.with(host: "127.0.0.1", port: controlPort, token: nil, { connection in
                StatusSnapshot(try await connection.call("Server.GetStatus")).connectedIDs
            }) {
                return ids
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// When all `count` speakers were connected (monotonic ns), or nil if they were not in time.
    private func waitForConnected(_ count: Int, controlPort: Int, within seconds: Double) async throws -> Int64? {
        let deadline = monotonicNanos() + Int64(seconds * 1e9)
        while monotonicNanos() < deadline {
            if let connected = try await connectedCount(controlPort: controlPort, within: 2), connected >= count { return monotonicNanos() }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    static func table(_ results: [Result]) -> String {
        var lines = [
            "| server | speakers | all connected after s | server CPU % | CPU % per speaker | server RSS MB | RSS KB per speaker | snapclient CPU % (mean) | sample skew p50 / p99 µs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in results {
            let perSpeakerKB = (result.residentMB - result.baselineMB) * 1024 / Double(result.speakers)
            let skew = result.skew.map { String(format: "%.0f / %.0f", $0.p50, $0.p99) } ?? "–"
            let connected = result.connectedSeconds.map { String(format: "%.1f", $0) } ?? "not all"
            lines.append("| \(result.server) | \(result.speakers) | \(connected) | "
                + String(format: "%.1f | %.3f | %.1f | %.0f | %.2f", result.cpuPercent, result.cpuPercent / Double(result.speakers), result.residentMB, perSpeakerKB, result.loadCPUPercent)
                + " | \(skew) |")
        }
        return lines.joined(separator: "\n")
    }
}
