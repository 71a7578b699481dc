import Foundation
import Synchronization
import TuttiHarness
import TuttiMeasure

/// Speaker processes started for a demo or benchmark, each writing what it plays to a pipe
/// that this process reads and timestamps on arrival (outside the speaker).
final class SpeakerFleet: Sendable {
    struct Member: Sendable {
        var name: String
        var process: ChildProcess
        var startedAt: Int64
        /// The constant lead of its pipe output (the block is written this long before it plays).
        var leadNanoseconds: Int64
        var driftPPM: Double?
        var offsetSeconds: Double?
        var stats: ProcessStats?
    }

    private let state = Mutex<[Member]>([])

    var members: [Member] { state.withLock { $0 } }

    /// Starts `tutti speaker` (this executable) with a simulated clock, writing to a pipe this
    /// process reads (or to `output`).
    func startTuttiSpeaker(
        name: String, port: Int, instance: Int, offsetSeconds: Double, driftPPM: Double, logLevel: String = "notice",
        output: String = "pipe:stdout", extraArguments: [String] = []
    ) throws {
        let process = try ChildProcess(currentExecutablePath(), [
            "speaker", "--server", "127.0.0.1:\(port)", "--id", name, "--instance", "\(instance)", "--output", output,
            // `--opt=value` so that negative numbers are not taken for options.
            "--clock-offset-s=\(offsetSeconds)", "--clock-drift-ppm=\(driftPPM)", "--log-level", logLevel,
        ] + extraArguments)
        let member = Member(name: name, process: process, startedAt: monotonicNanos(), leadNanoseconds: 5_000_000,
                            driftPPM: driftPPM, offsetSeconds: offsetSeconds)
        state.withLock { $0.append(member) }
    }

    /// Starts a real `snapclient` writing what it plays to stdout (its file player writes 50 ms
    /// blocks when due; its DAC-delay assumption is a constant, like a lead).
    func startSnapclient(path: String, name: String, port: Int, instance: Int, environment: [String: String] = [:], driftPPM: Double? = nil) throws {
        let process = try ChildProcess(path, [
            "-h", "127.0.0.1", "-p", "\(port)", "--hostID", name, "-i", "\(instance)",
            "--player", "file:filename=stdout", "--logsink", "stderr", "--logfilter", "*:notice",
        ], environment: environment)
        let member = Member(name: name, process: process, startedAt: monotonicNanos(), leadNanoseconds: 0, driftPPM: driftPPM)
        state.withLock { $0.append(member) }
    }

    /// Samples CPU and memory of every member that still runs (call just before stopping).
    func sampleStats() {
        state.withLock { members in
            for index in members.indices { members[index].stats = ProcessStats.read(pid: members[index].process.pid) }
        }
    }

    func stopAll() {
        members.forEach { $0.process.stop() }
    }

    /// The captured output of each member, for the sync analysis.
    func captures() -> [PlayerCapture] {
        members.map { member in
            PlayerCapture(name: member.name, reads: member.process.reads.map { CaptureRead(arrival: $0.arrival, bytes: $0.bytes) },
                          leadNanoseconds: member.leadNanoseconds)
        }
    }

    /// What a Tutti speaker said its clock estimate was when it stopped ("server clock rate X ppm").
    static func reportedRatePPM(in log: String) -> Double? {
        guard let range = log.range(of: "server clock rate ", options: .backwards) else { return nil }
        let rest = log[range.upperBound...].prefix { "+-.0123456789".contains($0) }
        return Double(rest)
    }
}
