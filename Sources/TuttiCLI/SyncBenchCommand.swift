import ArgumentParser
import Foundation
import Logging
import Synchronization
import TuttiHarness
import TuttiMeasure
import TuttiServer
import TuttiSources
import TuttiTiming

/// `tutti bench sync`: how closely real speaker processes play together, Tutti beside Snapcast.
///
/// Groups run one after another in one invocation, each through its own jitter proxies:
/// Tutti speakers from `tutti server`; real snapclients from `tutti server` (when installed);
/// Tutti speakers from a real `snapserver` (when installed). Tutti speakers get independent
/// simulated clocks (`--clock-*`); snapclients get theirs from libfaketime when it is
/// installed. Skew is measured outside the players, from what they emit.
struct SyncBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Inter-speaker skew, join time, CPU and memory.")

    @Option(name: .long, help: "Speakers per group.")
    var speakers: Int = 4

    @Option(name: .long, help: "Seconds each group plays.")
    var seconds: Double = 90

    @Option(name: .customLong("settle-s"), help: "Seconds left out of the skew statistics at the start; the joiner joins then.")
    var settleSeconds: Double = 30

    @Option(name: .customLong("drift-ppm"), help: "Largest clock rate error; speakers spread over ±this.")
    var driftPPM: Double = 100

    @Option(name: .customLong("jitter-ms"), help: "Mean of the exponential network jitter each way.")
    var jitterMs: Double = 5

    @Option(name: .customLong("spike-percent"), help: "Share of packets delayed by an extra 100 ms.")
    var spikePercent: Double = 1

    @Option(name: .customLong("floor-noise-us"), help: "Each message's floor is higher by a uniform 0…this (a noisy floor, as on Wi-Fi); 0: sharp.")
    var floorNoiseMicroseconds: Double = 0

    @Option(name: .long, help: "The network's shape, as `tutti bench sim --network`: sharp, noisy-floor (+0–500 µs per write), asymmetric (the way down 3 ms + exp(1 ms)), power-save (20 % held to the next 102.4 ms beacon) or roam (the floor +3 ms when the joiner joins).")
    var network = "sharp"

    @Option(name: .long, help: "Groups to run: tutti, tutti-stream (Tutti speakers with their clock sync in the stream connection, as before the time channel), snapclient, snapserver (comma-separated).")
    var groups: String = "tutti,snapclient,snapserver"

    @Option(name: .customLong("buffer-ms"), help: "The Tutti group's buffer(s), ms, comma-separated: each is run in turn (e.g. 1000,400,200,100).")
    var bufferList = "1000"

    @Option(name: .customLong("speaker-logs"), help: "Directory to save each Tutti speaker's debug log in (with its clock estimates, for diagnosis).")
    var speakerLogs: String?

    @Flag(name: .long, help: "Instead: Bluetooth speakers (null sinks, 180 and 250 ms of reported delay, one moving by 15 ms) beside a wired one and a snapclient.")
    var bluetooth = false

    @Option(name: .customLong("sound-server"), help: "With --bluetooth: the sound server the sinks live on, pulseaudio or pipewire (its PulseAudio layer).")
    var soundServer = "pulseaudio"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (0...100_000).contains(floorNoiseMicroseconds) else { throw ValidationError("--floor-noise-us must be 0…100000") }
        guard Self.networkCases.contains(network) else {
            throw ValidationError("--network is one of \(Self.networkCases.joined(separator: ", ")), not '\(network)'")
        }
        guard (2...8).contains(speakers) else { throw ValidationError("--speakers must be 2...8") }
        guard seconds >= settleSeconds + 5 else { throw ValidationError("--seconds must exceed --settle-s by at least 5") }
        guard !buffers.isEmpty, buffers.allSatisfy({ (20...10_000).contains($0) }) else {
            throw ValidationError("--buffer-ms is a comma-separated list of 20…10000, not '\(bufferList)'")
        }
        guard ["pulseaudio", "pipewire"].contains(soundServer) else { throw ValidationError("--sound-server is pulseaudio or pipewire, not '\(soundServer)'") }
        if bluetooth, seconds < settleSeconds + 5 + 31 + 10 {
            throw ValidationError("--bluetooth needs --seconds ≥ --settle-s + 46 (the delay change comes 5 s after settling and takes 30 s to slew)")
        }
    }

    struct GroupResult {
        var name: String
        var report: SyncReport
        /// The joiner: from its launch to its first audible frame, to staying within 1 ms of the
        /// group (no audible echo), and to staying within 100 µs.
        var joinAudioMilliseconds: Double?
        var joinAudibleSyncMilliseconds: Double?
        var joinMilliseconds: Double?
        /// Skew p99 while the estimators are young: from 3 s to the settle time.
        var earlySkewP99: Double?
        var cpuPercent: [Double]
        var residentMB: [Double]
        var note: String
    }

    var buffers: [Int] { bufferList.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    var jitter: JitterModel {
        JitterModel(
            baseMilliseconds: 1, meanJitterMilliseconds: jitterMs, spikeProbability: spikePercent / 100, spikeMilliseconds: 100,
            floorNoiseMicroseconds: network == "noisy-floor" && floorNoiseMicroseconds == 0 ? 500 : floorNoiseMicroseconds)
    }

    static var networkCases: [String] { SimulationBenchCommand.networkCases }

    /// A proxy of `--network`'s shape in front of the server's `port`. A roam comes when the
    /// joiner joins (`--settle-s` after the group's start; at once on the joiner's own proxy).
    func makeProxy(to port: Int, seed: UInt64, joiner: Bool = false) throws -> JitterProxy {
        var up = jitter
        switch network {
        case "power-save":
            up.powerSaveProbability = 0.2
        case "roam":
            up.floorStepAfterNanoseconds = joiner ? 0 : Int64(settleSeconds * 1e9)
            up.floorStepNanoseconds = 3_000_000
        default:
            break
        }
        var down = up
        if network == "asymmetric" {
            down.baseNanoseconds = 3_000_000
            down.meanJitterNanoseconds = 1_000_000
        }
        return try JitterProxy(upstreamPort: port, model: up, downModel: down, seed: seed)
    }

    /// Clock errors spread evenly over ±drift, with offsets of a few seconds.
    func clock(_ index: Int) -> (offset: Double, ppm: Double) {
        let ppm = speakers == 1 ? driftPPM : -driftPPM + 2 * driftPPM * Double(index) / Double(speakers - 1)
        return (Double(index % 3) * 1.7 - 1.3, ppm.rounded())
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "tutti.bench", fallback: .error)
        if bluetooth { return try await bluetoothRun(logger: logger) }
        let wanted = Set(groups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        say("tutti bench sync: \(speakers) speakers per group, clocks within ±\(Int(driftPPM)) ppm, network \(jitter) (\(network)), \(Int(seconds)) s per group (first \(Int(settleSeconds)) s settle)")
        var results: [GroupResult] = []
        if wanted.contains("tutti") {
            for buffer in buffers { results.append(try await tuttiGroup(bufferMs: buffer, logger: logger)) }
        }
        if wanted.contains("tutti-stream") {
            for buffer in buffers { results.append(try await tuttiGroup(bufferMs: buffer, timeInStream: true, logger: logger)) }
        }
        if wanted.contains("snapclient") {
            if let snapclient = which("snapclient") { results.append(try await snapclientGroup(path: snapclient, logger: logger)) }
            else { say("  (snapclient not installed: apt-get install snapclient — group skipped)") }
        }
        if wanted.contains("snapserver") {
            if let snapserver = which("snapserver") { results.append(try await snapserverGroup(path: snapserver)) }
            else { say("  (snapserver not installed: apt-get install snapserver — group skipped)") }
        }
        say("")
        say(Self.table(results))
        if buffers.count > 1 {
            say("\n| Tutti buffer | skew p50 µs | skew p99 µs | skew max µs | windows with a speaker silent (dropouts) | windows not matching the group |")
            say("|---:|---:|---:|---:|---:|---:|")
            for (buffer, result) in zip(buffers, results) {
                let silent = result.report.players.map(\.silentWindows).reduce(0, +)
                let rejected = result.report.players.map(\.rejectedWindows).reduce(0, +)
                func f(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "–" }
                say("| \(buffer) ms | \(f(result.report.skew?.p50)) | \(f(result.report.skew?.p99)) | \(f(result.report.skew?.max)) | \(silent) | \(rejected) |")
            }
        }
        for result in results {
            say("\n\(result.name) (steady speakers; the joiner is timed separately):\n\(result.report.textTable())")
        }
    }

    // MARK: groups

    /// - Parameter timeInStream: the speakers keep their Time messages in the stream connection
    ///   (`--time-channel stream`) instead of the time channel.
    private func tuttiGroup(bufferMs: Int, timeInStream: Bool = false, logger: Logger) async throws -> GroupResult {
        let name = (bufferMs == 1000 && buffers.count == 1 ? "Tutti speakers ← tutti server" : "Tutti speakers ← tutti server, buffer \(bufferMs) ms")
            + (timeInStream ? " (time in the stream)" : "")
        let extra = timeInStream ? ["--time-channel", "stream"] : []
        say("▶ \(name)")
        let fleet = SpeakerFleet()
        let proxies = Mutex<[JitterProxy]>([])
        let startedAt = monotonicNanos()
        var joinedAt: Int64 = 0
        try await TuttiServer.withRunning(musicServer(bufferMs: bufferMs), logger: logger) { port in
            for index in 0..<speakers {
                let proxy = try makeProxy(to: port, seed: UInt64(index) + 1)
                proxies.withLock { $0.append(proxy) }
                let clock = clock(index)
                try fleet.startTuttiSpeaker(
                    name: "tutti-\(index + 1)", port: proxy.port, instance: index + 1, offsetSeconds: clock.offset, driftPPM: clock.ppm, logLevel: speakerLogLevel,
                    extraArguments: extra)
            }
            try await Task.sleep(for: .seconds(settleSeconds))
            // One more speaker joins the playing group: how long until it is in sync?
            let proxy = try makeProxy(to: port, seed: 99, joiner: true)
            proxies.withLock { $0.append(proxy) }
            try fleet.startTuttiSpeaker(
                name: "tutti-join", port: proxy.port, instance: speakers + 1, offsetSeconds: 0.7, driftPPM: -driftPPM / 2, logLevel: speakerLogLevel,
                extraArguments: extra)
            try await Task.sleep(for: .seconds(seconds - settleSeconds))
            fleet.sampleStats()
            fleet.stopAll()
        }
        proxies.withLock { $0.forEach { $0.stop() } }
        joinedAt = fleet.members.last?.startedAt ?? 0
        return finish(name, fleet: fleet, startedAt: startedAt, joiner: "tutti-join", joinedAt: joinedAt,
                      note: "clocks ±\(Int(driftPPM)) ppm via --clock-*")
    }

    private func snapclientGroup(path: String, logger: Logger) async throws -> GroupResult {
        say("▶ snapclient ← tutti server")
        let fleet = SpeakerFleet()
        let proxies = Mutex<[JitterProxy]>([])
        let faketime = Self.faketimeLibrary()
        let startedAt = monotonicNanos()
        try await TuttiServer.withRunning(musicServer(), logger: logger) { port in
            for index in 0..<speakers {
                let proxy = try makeProxy(to: port, seed: UInt64(index) + 11)
                proxies.withLock { $0.append(proxy) }
                let ppm = clock(index).ppm
                var environment: [String: String] = [:]
                if let faketime {
                    environment = ["LD_PRELOAD": faketime, "FAKETIME": String(format: "+0 x%.6f", 1 + ppm / 1e6)]
                }
                try fleet.startSnapclient(path: path, name: "snapclient-\(index + 1)", port: proxy.port, instance: index + 1,
                                          environment: environment, driftPPM: faketime == nil ? nil : ppm)
            }
            try await Task.sleep(for: .seconds(settleSeconds))
            let proxy = try makeProxy(to: port, seed: 98, joiner: true)
            proxies.withLock { $0.append(proxy) }
            try fleet.startSnapclient(path: path, name: "snapclient-join", port: proxy.port, instance: speakers + 1)
            try await Task.sleep(for: .seconds(seconds - settleSeconds))
            fleet.sampleStats()
            fleet.stopAll()
        }
        proxies.withLock { $0.forEach { $0.stop() } }
        return finish("snapclient ← tutti server", fleet: fleet, startedAt: startedAt, joiner: "snapclient-join",
                      joinedAt: fleet.members.last?.startedAt ?? 0,
                      note: faketime == nil ? "no clock error (libfaketime not installed: apt-get install faketime)" : "clocks ±\(Int(driftPPM)) ppm via libfaketime")
    }

    private func snapserverGroup(path: String) async throws -> GroupResult {
        say("▶ Tutti speakers ← snapserver")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = freeLoopbackPort()
        let fifo = "\(directory)/fifo"
        try """
            [server]
            datadir = \(directory)/data
            [stream]
            port = \(port)
            source = pipe://\(fifo)?name=default&sampleformat=48000:16:2&codec=pcm
            buffer = 1000
            [tcp]
            enabled = false
            [http]
            enabled = false
            """.write(toFile: "\(directory)/server.ini", atomically: true, encoding: .utf8)
        let server = try ChildProcess(path, ["-c", "\(directory)/server.ini"])
        defer { server.stop() }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: fifo) { try await Task.sleep(for: .milliseconds(50)) }
        let feeder = MusicFeeder(path: fifo)
        defer { feeder.stop() }
        try await Task.sleep(for: .milliseconds(500))

        let fleet = SpeakerFleet()
        var proxies: [JitterProxy] = []
        let startedAt = monotonicNanos()
        for index in 0..<speakers {
            let proxy = try makeProxy(to: port, seed: UInt64(index) + 21)
            proxies.append(proxy)
            let clock = clock(index)
            try fleet.startTuttiSpeaker(name: "tutti-\(index + 1)", port: proxy.port, instance: index + 1, offsetSeconds: clock.offset, driftPPM: clock.ppm, logLevel: speakerLogLevel)
        }
        try await Task.sleep(for: .seconds(settleSeconds))
        let proxy = try makeProxy(to: port, seed: 97, joiner: true)
        proxies.append(proxy)
        try fleet.startTuttiSpeaker(name: "tutti-join", port: proxy.port, instance: speakers + 1, offsetSeconds: 0.7, driftPPM: -driftPPM / 2, logLevel: speakerLogLevel)
        try await Task.sleep(for: .seconds(seconds - settleSeconds))
        fleet.sampleStats()
        fleet.stopAll()
        proxies.forEach { $0.stop() }
        return finish("Tutti speakers ← snapserver", fleet: fleet, startedAt: startedAt, joiner: "tutti-join",
                      joinedAt: fleet.members.last?.startedAt ?? 0, note: "clocks ±\(Int(driftPPM)) ppm via --clock-*")
    }

    private func musicServer(bufferMs: Int = 1000) throws -> ServerConfiguration {
        ServerConfiguration(sources: [try SourceURI(parsing: "tone://?name=music&kind=music")], bufferMs: bufferMs, bindAddress: "127.0.0.1", streamPort: 0, controlPort: 0, httpPort: 0)
    }

    /// Tutti speakers log at debug level (with their clock-estimate lines) only for `--speaker-logs`.
    var speakerLogLevel: String { speakerLogs == nil ? "notice" : "debug" }

    /// Analyzes a group: skew among the steady speakers after settling, and the joiner's time to sync.
    private func finish(_ name: String, fleet: SpeakerFleet, startedAt: Int64, joiner: String, joinedAt: Int64, note: String) -> GroupResult {
        if let directory = speakerLogs {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // "Tutti speakers ← tutti server (time in the stream)" → "tutti-speakers-tutti-server-time-in-the-stream".
            let group = name.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
            for member in fleet.members {
                let path = "\(directory)/\(group)-\(member.name).log"
                if !FileManager.default.createFile(atPath: path, contents: Data(member.process.errorText.utf8)) { say("  (cannot write \(path))") }
            }
        }
        let captures = fleet.captures()
        let settle = startedAt + Int64(settleSeconds * 1e9)
        // Skew among the speakers that played from the start; the joiner is judged on its own.
        var options = SyncAnalysisOptions()
        options.windowSpacingNanoseconds = 50_000_000  // finer join times
        let report = SyncAnalysis.analyze(captures.filter { $0.name != joiner }, startedAt: startedAt, settleAfter: settle, options: options)
        let withJoiner = SyncAnalysis.analyze(captures, startedAt: startedAt, settleAfter: settle, options: options)
        let joined = withJoiner.players.first { $0.name == joiner }
        func sinceJoin(_ nanos: Int64?) -> Double? { nanos.map { Double($0 - (joinedAt - startedAt)) / 1e6 } }
        let early = report.skewSeries.filter { $0.seconds >= 3 && $0.seconds < settleSeconds }.map(\.microseconds).sorted()
        let elapsed = Double(monotonicNanos() - startedAt) / 1e9
        let steady = fleet.members.filter { $0.name != joiner }
        return GroupResult(
            name: name, report: report, joinAudioMilliseconds: sinceJoin(joined?.firstAudioNanoseconds),
            joinAudibleSyncMilliseconds: sinceJoin(joined?.inSyncNanoseconds(underMicroseconds: 1000)),
            joinMilliseconds: sinceJoin(joined?.inSyncNanoseconds),
            earlySkewP99: early.isEmpty ? nil : DeviationStatistics.percentile(0.99, ofSorted: early),
            cpuPercent: steady.compactMap { $0.stats.map { 100 * $0.cpuSeconds / elapsed } },
            residentMB: steady.compactMap { $0.stats.map { Double($0.residentBytes) / 1_048_576 } }, note: note)
    }

    static func table(_ results: [GroupResult]) -> String {
        var lines = [
            "| group | skew p50 µs | skew p99 µs | skew max µs | skew p99 µs, 3 s–settle | join → audio / < 1 ms / < 100 µs (ms) | CPU % per speaker | RSS MB per speaker | clocks |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for result in results {
            let skew = result.report.skew
            func f(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "–" }
            func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
            func ms(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "–" }
            let join = "\(ms(result.joinAudioMilliseconds)) / \(ms(result.joinAudibleSyncMilliseconds)) / \(ms(result.joinMilliseconds))"
            lines.append("| \(result.name) | \(f(skew?.p50)) | \(f(skew?.p99)) | \(f(skew?.max)) | \(f(result.earlySkewP99)) | \(join) | \(f(mean(result.cpuPercent))) | \(f(mean(result.residentMB))) | \(result.note) |")
        }
        return lines.joined(separator: "\n")
    }

    static func faketimeLibrary() -> String? {
        ["/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"]
            .first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// Writes the built-in music signal into a FIFO; the reader (snapserver) paces it.
final class MusicFeeder: Sendable {
    private let stopped = Mutex(false)

    init(path: String) {
        signal(SIGPIPE, SIG_IGN)
        Thread.detachNewThread { [self] in
            let source = SignalSource(kind: .music, format: .cd48k)
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var block = [UInt8](repeating: 0, count: 3840)
            while !stopped.withLock({ $0 }) {
                let read = block.withUnsafeMutableBytes { try? source.read(into: $0, timeoutNanoseconds: 0) }
                guard case .bytes(let count) = read else { return }
                var offset = 0
                while offset < count {
                    let written = block[offset..<count].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    func stop() { stopped.withLock { $0 = true } }
}
