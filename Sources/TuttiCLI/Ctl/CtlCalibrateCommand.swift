import ArgumentParser
import Foundation
import TuttiControl
import TuttiHarness

/// `tutti ctl calibrate`: measures each speaker's real delay with a microphone and (with
/// `--apply`) corrects it.
struct CtlCalibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "Measure the speakers' real delays with a microphone, and correct them (--apply).",
        discussion: """
            Each speaker plays its own short noise bursts at known times while --record runs: a shell \
            command that writes the microphone as raw 16-bit little-endian mono at --rate to its \
            standard output, e.g. `parec --raw --format=s16le --rate=48000 --channels=1` or `arecord -q \
            -t raw -f S16_LE -r 48000 -c 1 -D hw:1,0`. Every speaker's delay is found relative to the \
            first one heard; --apply sets each latency so that all sound together where the microphone \
            is. The table says how sure each result is (the burst's peak above the rest, dB; 20 or more \
            is clear) and each speaker's level (trims that would make them equally loud). Put the \
            microphone where you listen. Exits with 1 when no speaker was heard. See docs/calibration.md.
            """)
    @OptionGroup var options: CtlOptions
    @Option(name: .long, help: "The shell command that records the microphone (raw s16le mono on stdout).") var record: String
    @Option(name: .long, help: "The recording's sample rate.") var rate = 48_000
    @Option(name: .long, help: "Burst level, 0.01…1 of full scale.") var level = 0.5
    @Option(name: .long, help: "How often each speaker is heard (repeats that agree make a result sure).") var rounds = 3
    @Option(name: .customLong("uncertainty-ms"), help: "How late the recorder may start recording after it is started, ms.") var uncertaintyMs = 500.0
    @Flag(name: .long, help: "Set the measured corrections as the speakers' latencies.") var apply = false
    @Flag(name: .long, help: "Set the level trims that make the speakers equally loud (Tutti speakers; under each one's volume).") var trim = false
    @Argument(help: "The speakers (default: every connected one).") var speakers: [String] = []

    func validate() throws {
        guard (8_000...192_000).contains(rate) else { throw ValidationError("--rate must be 8000…192000") }
        guard (0.01...1).contains(level) else { throw ValidationError("--level must be 0.01…1") }
        guard (1...8).contains(rounds) else { throw ValidationError("--rounds must be 1…8") }
        guard (0...2_000).contains(uncertaintyMs) else { throw ValidationError("--uncertainty-ms must be 0…2000") }
    }

    func run() async throws {
        try await options.run { connection, status in
            let chosen = try speakers.isEmpty ? status.groups.flatMap(\.clients).filter(\.connected) : speakers.map { try status.speaker($0) }
            guard !chosen.isEmpty else { throw CtlError.notFound("no connected speakers to calibrate") }
            // `exec`: the shell becomes the recorder, so stopping it stops the recording (what a
            // pipeline leaves running ends at its next write, once this process is gone).
            let recorderStart = Self.now
            let recorder: ChildProcess
            do {
                recorder = try ChildProcess("/bin/sh", ["-c", "exec " + record])
            } catch {
                throw CtlError.usage("cannot run the recorder '\(record)': \(error)")
            }
            defer { recorder.stop() }
            let sent = Self.now
            let run = try await connection.call(
                "Calibration.Start",
                ["speakers": .array(chosen.map { .string($0.id) }), "level": .double(level), "rounds": .int(rounds), "uncertaintyMs": .double(uncertaintyMs)],
                timeout: .seconds(15))
            let received = Self.now
            guard let id = run["id"]?.stringValue, let startsIn = run["startsInMs"]?.doubleValue, let duration = run["durationMs"]?.doubleValue,
                  startsIn.isFinite, duration.isFinite, abs(startsIn) < 60_000, (0..<600_000).contains(duration)
            else {
                throw CtlError.unreachable("the server's answer has no run: \(run.text)")
            }
            // The run's start on this machine's clock: the server's "starts in" from the middle of the call.
            let runStart = (sent + received) / 2 + startsIn / 1000
            for warning in run["warnings"]?.arrayValue ?? [] {
                FileHandle.standardError.write(Data("warning: \(warning.stringValue ?? warning.text)\n".utf8))
            }
            FileHandle.standardError.write(Data("calibrating \(chosen.map(\.displayName).joined(separator: ", ")): \(String(format: "%.0f", duration / 1000)) s of test bursts…\n".utf8))
            let wanted = Int((runStart + duration / 1000 - recorderStart) * Double(rate)) * 2
            let deadline = runStart + duration / 1000 + 30
            while recorder.reads.reduce(0, { $0 + $1.bytes.count }) < wanted, !recorder.waitForOutputEnd(seconds: 0), Self.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            recorder.stop()
            let samples = recorder.output
            guard samples.count >= wanted / 2 else {
                throw CtlError.unreachable("the recorder gave \(samples.count / 2) samples, fewer than the run needs (\(wanted / 2)): \(recorder.errorText)")
            }
            for piece in stride(from: 0, to: samples.count / 2 * 2, by: 40_000) {
                let slice = samples[piece..<min(piece + 40_000, samples.count / 2 * 2)]
                _ = try await connection.call(
                    "Calibration.Deliver", ["id": .string(id), "samples": .string(Data(slice).base64EncodedString()), "rate": .int(rate)])
            }
            let analyzed = try await connection.call(
                "Calibration.Analyze", ["id": .string(id), "startOffsetMs": .double((recorderStart - runStart) * 1000)], timeout: .seconds(60))
            let result = analyzed["run"] ?? .null
            var text = Self.table(result, names: Dictionary(chosen.map { ($0.id, $0.displayName) }) { first, _ in first })
            let measured = (result["results"]?.arrayValue ?? []).filter { $0["status"] == "measured" }
            guard !measured.isEmpty else { throw CtlError.unreachable(text + "\nno speaker was heard clearly: is the microphone on, and the speakers loud enough (--level)?") }
            var json = analyzed
            if apply || trim {
                let applied = try await connection.call("Calibration.Apply", ["id": .string(id), "latency": .bool(apply), "trims": .bool(trim)])
                text += "\napplied: " + (applied["applied"]?.arrayValue ?? []).map(Self.applied).joined(separator: ", ")
                json = ["run": result, "applied": applied["applied"] ?? []]
            } else {
                text += "\n(not applied: add --apply to set the new latencies)"
            }
            return CtlOutput(text: text, json: json)
        }
    }

    /// "s1 180.22 ms, trim -3.2 dB" for one speaker of Calibration.Apply's answer.
    static func applied(_ item: JSON) -> String {
        var parts = [item["id"]?.stringValue ?? "?"]
        if let latency = item["latencyMs"]?.doubleValue { parts.append(StatusTable.milliseconds(latency)) }
        if let trim = item["trimDb"]?.doubleValue {
            parts.append(String(format: "trim %.1f dB", (trim * 10).rounded() / 10 + 0))  // + 0: no "-0.0"
        }
        if let why = item["trimNotApplied"]?.stringValue { parts.append("(\(why))") }
        return parts.joined(separator: " ")
    }

    static var now: Double { Double(monotonicNanos()) / 1e9 }

    static func table(_ run: JSON, names: [String: String]) -> String {
        var rows = [["SPEAKER", "STATUS", "DELAY", "LATENCY NOW", "NEW LATENCY", "CONFIDENCE", "LEVEL", "TRIM"]]
        for item in run["results"]?.arrayValue ?? [] {
            let id = item["id"]?.stringValue ?? "?"
            func ms(_ key: String, _ format: String = "%.1f ms") -> String { item[key]?.doubleValue.map { String(format: format, $0) } ?? "–" }
            rows.append([
                names[id] ?? id, item["status"]?.stringValue ?? "?", ms("delayMs"), item["latencyMs"]?.doubleValue.map(StatusTable.milliseconds) ?? "–",
                item["newLatencyMs"]?.doubleValue.map(StatusTable.milliseconds) ?? "–", ms("confidenceDB", "%.0f dB"), ms("levelDB", "%.1f dB"), ms("volumeTrimDB", "%.1f dB"),
            ])
        }
        let reference = run["reference"]?.stringValue.map { "delays relative to \(names[$0] ?? $0)" } ?? ""
        return (StatusTable.table(rows) + [reference]).joined(separator: "\n")
    }
}
