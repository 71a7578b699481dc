import Foundation
import NIOConcurrencyHelpers
import TuttiControl
import TuttiMeasure
import TuttiTiming

/// A calibration run: each chosen speaker plays its own test bursts (``CalibrationPlan``) at
/// known server times through the normal playout path, a microphone records them, and the
/// recording — delivered in pieces (`Calibration.Deliver`) — gives each speaker's delay
/// relative to the first one heard and its level (``CalibrationAnalysis``); `Calibration.Apply`
/// turns the delays into latency corrections.
struct CalibrationRun: Sendable {
    var id: String
    var plan: CalibrationPlan
    var level: Double
    /// Server time of the plan's start, and of the end of its last burst's slot.
    var startsAt: Nanos
    var endsAt: Nanos
    /// Each speaker's latency (µs) when the run started (the bursts were played with it).
    var latencies: [String: Int]
    var state: State = .playing
    /// The recording so far (mono, 16-bit), and its rate.
    var recording: [Int16] = []
    var rate = 48_000
    var result: CalibrationResult?

    enum State: String, Sendable { case playing, recorded, analyzed, applied }

    /// At most a minute at 48 kHz is kept.
    static let maximumSamples = 48_000 * 60

    static func streamID(_ run: String, _ speaker: String) -> String { "calibration \(run) \(speaker)" }

    /// The correction that makes a speaker sound with the reference: its delay relative to the
    /// reference plus the latency it played with (the reference keeps its own), µs.
    func proposedLatency(_ speaker: String) -> Int? {
        guard let measurement = result?.measurement(speaker), measurement.status == .measured, let delay = measurement.delay, delay.isFinite,
              abs(delay) < 10 else { return nil }
        return Int((delay * 1_000_000 + Double(latencies[speaker] ?? 0)).rounded())
    }

    var json: JSON {
        var object: [String: JSON] = [
            "id": .string(id), "state": .string(state.rawValue), "speakers": .array(plan.speakers.map { .string($0) }),
            "level": .double(level), "durationMs": .double(plan.duration * 1000), "startsAt": .int(Int(startsAt)),
            "recordedMs": .double(Double(recording.count) * 1000 / Double(rate)),
        ]
        if let result {
            object["reference"] = result.reference.map { .string($0) } ?? .null
            object["absolute"] = .bool(result.absolute)
            if let ppm = result.microphoneRatePPM { object["microphoneRatePpm"] = .double(ppm) }
            let trims = result.volumeTrimsDB
            object["results"] = .array(result.measurements.map { measurement in
                var item: [String: JSON] = [
                    "id": .string(measurement.speaker), "status": .string(measurement.status.rawValue),
                    "confidenceDB": .double(measurement.peakToSidelobeDB), "found": .int(measurement.found), "played": .int(measurement.played),
                    "latencyMs": SnapcastJSON.latency(latencies[measurement.speaker] ?? 0),
                ]
                if let delay = measurement.delay { item["delayMs"] = .double(delay * 1000) }
                if let level = measurement.levelDB { item["levelDB"] = .double(level) }
                if let spread = measurement.spreadMs { item["spreadMs"] = .double(spread) }
                if let proposed = proposedLatency(measurement.speaker) { item["newLatencyMs"] = SnapcastJSON.latency(proposed) }
                if let trim = trims[measurement.speaker] { item["volumeTrimDB"] = .double(trim) }
                return .object(item)
            })
        }
        return .object(object)
    }
}

extension ControlPlane {
    /// `Calibration.*`.
    func calibration(_ method: String, _ params: JSON) async throws(RPCError) -> JSON {
        switch method {
        case "Calibration.Start": return try await startCalibration(params)
        case "Calibration.GetStatus":
            if let id = params["id"]?.stringValue { return ["run": try calibrationRun(id).json] }
            return ["runs": .array(calibrations.values.sorted { $0.startsAt < $1.startsAt }.map(\.json))]  // the last 8
        case "Calibration.Deliver": return try deliverRecording(params)
        case "Calibration.Analyze": return try analyzeRecording(params)
        case "Calibration.Apply": return try applyCalibration(params)
        default: throw .methodNotFound(method)
        }
    }

    private func calibrationRun(_ id: String) throws(RPCError) -> CalibrationRun {
        guard let run = calibrations[id] else { throw .invalidParams("no calibration run '\(id)'") }
        return run
    }

    /// `{"speakers": [ids], "level": 0.5, "rounds": 3, "uncertaintyMs": 250}`: schedules the
    /// bursts and answers at once with the run (`startsAt`: the plan's start in server time;
    /// `startsInMs`: how long until then; `warnings`: what may make it less accurate). The
    /// speakers play their group's stream again after `durationMs`.
    private func startCalibration(_ params: JSON) async throws(RPCError) -> JSON {
        let ids = (params["speakers"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard (1...8).contains(ids.count), Set(ids).count == ids.count else {
            throw .invalidParams("'speakers' must list 1…8 different speaker IDs")
        }
        for id in ids {
            guard let speaker = model.speaker(id) else { throw RPCError(.unknownSpeaker(id)) }
            guard speaker.connected else { throw .invalidParams("speaker '\(speaker.displayName)' is not connected") }
            guard calibrationOverrides[id] == nil else { throw .conflict("speaker '\(speaker.displayName)' is being calibrated already") }
        }
        let level = params["level"]?.doubleValue ?? 0.5
        let rounds = params["rounds"]?.intValue ?? 3
        let uncertainty = (params["uncertaintyMs"]?.doubleValue ?? 250) / 1000
        guard (0.01...1).contains(level), (1...8).contains(rounds), (0...2).contains(uncertainty) else {
            throw .invalidParams("'level' is 0.01…1, 'rounds' 1…8, 'uncertaintyMs' 0…2000")
        }
        let plan = CalibrationPlan(speakers: ids, rate: 48_000, rounds: rounds, timingUncertaintySeconds: uncertainty)
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        var sources: [String: CalibrationSource] = [:]
        for id in ids {
            var track = [Float](repeating: 0, count: Int(plan.duration * 48_000) + 1)
            let burst = plan.signal(for: id)
            for emission in plan.emissions where emission.speaker == id {
                let at = Int((emission.offset * 48_000).rounded())
                for (index, sample) in burst.enumerated() where at + index < track.count { track[at + index] = sample * Float(level) }
            }
            sources[id] = CalibrationSource(track: track)
        }
        let firsts = NIOLockedValueBox<[String: Nanos]>([:])
        for id in ids {
            await streamHost.openCalibration(CalibrationRun.streamID(runID, id), sources[id]!) { timestamp in
                firsts.withLockedValue { $0[id] = timestamp }
            }
        }
        var first: [String: Nanos] = [:]
        for _ in 0..<300 {
            first = firsts.withLockedValue { $0 }
            if first.count == ids.count { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard first.count == ids.count, let latest = first.values.max() else {
            for id in ids { streamHost.close(CalibrationRun.streamID(runID, id)) }
            throw .internalError("the calibration streams did not start")
        }
        // Every track starts at one server time, a little after the last stream's first frame.
        let buffer = core.bufferNanos
        let startsAt = latest + buffer + 600 * .nanosPerMillisecond
        for id in ids { sources[id]!.begin(atFrame: (startsAt - buffer - first[id]!) * 48_000 / .nanosPerSecond) }
        var latencies: [String: Int] = [:]
        var overrides: [String: SpeakerPlayback] = [:]
        for id in ids {
            let latency = model.speaker(id)?.latencyMicroseconds ?? 0
            latencies[id] = latency
            overrides[id] = SpeakerPlayback(
                streamID: CalibrationRun.streamID(runID, id), volume: 100, muted: false, latencyMicroseconds: latency, channel: .stereo)
        }
        calibrationOverrides.merge(overrides) { $1 }
        let core = self.core
        let playback = overrides
        core.eventLoop.execute { core.assumeIsolated { $0.apply(playback) } }
        let endsAt = startsAt + Nanos(plan.duration * 1e9) + 300 * .nanosPerMillisecond
        let run = CalibrationRun(id: runID, plan: plan, level: level, startsAt: startsAt, endsAt: endsAt, latencies: latencies)
        calibrations[runID] = run
        // The last 8 runs are kept (each may hold a minute of recording).
        if calibrations.count > 8, let oldest = calibrations.values.filter({ $0.state != .playing }).min(by: { $0.startsAt < $1.startsAt }) {
            calibrations[oldest.id] = nil
        }
        logger.info("calibration \(runID): \(ids.joined(separator: ", ")) play their bursts for \(String(format: "%.1f", plan.duration)) s")
        let wait = Double(endsAt - core.now) / 1e9
        Task {
            try? await Task.sleep(for: .seconds(max(0, wait)))
            self.endCalibrationPlayback(runID)
        }
        var answer = run.json.objectValue ?? [:]
        answer["startsInMs"] = .double(Double(startsAt - core.now) / 1e6)
        answer["warnings"] = .array(Self.youngClocks(ids.compactMap { model.speaker($0) }, now: Date().timeIntervalSince1970).map(JSON.string))
        return .object(answer)
    }

    /// How long a speaker's clock estimate takes to settle after it connects (a calibration
    /// made sooner keeps the estimate's error: up to ~0.2 ms was seen with 3 s, docs/calibration.md).
    static let clockSettlingSeconds = 10.0

    /// A warning for each speaker that connected less than ``clockSettlingSeconds`` before `now`
    /// (seconds since 1970).
    static func youngClocks(_ speakers: [Speaker], now: Double) -> [String] {
        speakers.compactMap { speaker in
            let age = now - (Double(speaker.lastSeen.sec) + Double(speaker.lastSeen.usec) / 1e6)
            guard speaker.connected, age < clockSettlingSeconds else { return nil }
            return "\(speaker.displayName) connected \(String(format: "%.0f", max(0, age))) s ago: its clock may still be settling, "
                + "so its delay may be off by a few tenths of a ms; for the best result, calibrate again in \(Int(clockSettlingSeconds)) s"
        }
    }

    /// The run's bursts are over: its speakers play their group's stream again.
    func endCalibrationPlayback(_ runID: String) {
        guard let run = calibrations[runID], run.state == .playing else { return }
        calibrations[runID]?.state = .recorded
        for id in run.plan.speakers { calibrationOverrides[id] = nil }
        let playback = model.playbackBySpeaker.filter { run.plan.speakers.contains($0.key) }
        let core = self.core
        core.eventLoop.execute { core.assumeIsolated { $0.apply(playback) } }
        for id in run.plan.speakers { streamHost.close(CalibrationRun.streamID(runID, id)) }
        logger.info("calibration \(runID): bursts played; waiting for the recording")
    }

    /// `{"id", "samples": base64 of 16-bit little-endian mono, "rate": 48000}`: appends a piece
    /// of the microphone's recording (pieces fit the 64 KiB message limit: ~24,000 samples).
    private func deliverRecording(_ params: JSON) throws(RPCError) -> JSON {
        let id = params["id"]?.stringValue ?? ""
        var run = try calibrationRun(id)
        guard run.state != .applied else { throw .conflict("calibration run '\(id)' is applied already") }
        guard let text = params["samples"]?.stringValue, let data = Data(base64Encoded: text), data.count % 2 == 0 else {
            throw .invalidParams("'samples' must be base64 of 16-bit little-endian mono samples")
        }
        let rate = params["rate"]?.intValue ?? 48_000
        guard (8_000...192_000).contains(rate) else { throw .invalidParams("'rate' must be 8000…192000") }
        if !run.recording.isEmpty, rate != run.rate { throw .invalidParams("every piece must have the same rate (\(run.rate))") }
        let samples = data.withUnsafeBytes { raw in (0..<data.count / 2).map { Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) } }
        guard run.recording.count + samples.count <= CalibrationRun.maximumSamples * max(1, rate / 48_000) else {
            throw .invalidParams("the recording would be longer than a minute")
        }
        run.rate = rate
        run.recording += samples
        calibrations[id] = run
        return ["recordedMs": .double(Double(run.recording.count) * 1000 / Double(rate))]
    }

    /// `{"id", "startOffsetMs"}`: when the recording started, ms after the run's start
    /// (negative: before it), as the recorder knows it — within the run's timing uncertainty.
    /// Finds every speaker's bursts and answers with the run and its results.
    private func analyzeRecording(_ params: JSON) throws(RPCError) -> JSON {
        let id = params["id"]?.stringValue ?? ""
        var run = try calibrationRun(id)
        guard !run.recording.isEmpty else { throw .invalidParams("calibration run '\(id)' has no recording yet (Calibration.Deliver)") }
        guard let offset = params["startOffsetMs"]?.doubleValue, abs(offset) < 600_000 else {
            throw .invalidParams("'startOffsetMs' (when the recording started, ms after the run's start) is required")
        }
        let recording = run.recording.map { Float($0) / 32_768 }
        run.result = CalibrationAnalysis.analyze(recording: recording, rate: run.rate, start: offset / 1000, plan: run.plan, clockKnown: false)
        if run.state != .playing { run.state = .analyzed }
        calibrations[id] = run
        return ["run": run.json]
    }

    /// `{"id", "latency": true, "trims": false}`: sets each measured speaker's latency to its
    /// proposed correction and/or its level trim to the one that makes it as loud as the
    /// quietest (stored, as `Client.SetLatency` / `Client.SetTrim` do). Speakers too quiet or
    /// inconsistent keep theirs; a speaker that cannot apply a trim (a snapclient) is listed
    /// with why.
    private func applyCalibration(_ params: JSON) throws(RPCError) -> JSON {
        let id = params["id"]?.stringValue ?? ""
        let run = try calibrationRun(id)
        guard let result = run.result else { throw .invalidParams("calibration run '\(id)' is not analyzed yet (Calibration.Analyze)") }
        let latencies = params["latency"]?.boolValue ?? true, trims = params["trims"]?.boolValue ?? false
        var applied: [JSON] = []
        let proposedTrims = result.volumeTrimsDB
        for speaker in run.plan.speakers {
            guard let known = model.speaker(speaker) else { continue }
            var item: [String: JSON] = ["id": .string(speaker)]
            var commands: [Command] = []
            var trimmed = false
            if latencies, let latency = run.proposedLatency(speaker), SystemModel.latencyRangeMicroseconds.contains(latency) {
                commands.append(.setLatency(speaker: speaker, microseconds: latency))
                item["latencyMs"] = SnapcastJSON.latency(latency)
            }
            if trims, let trim = proposedTrims[speaker], trim.isFinite {
                if known.capabilities.contains(Capability.trim) {
                    let bounded = max(SystemModel.trimRange.lowerBound, min(SystemModel.trimRange.upperBound, trim))
                    commands.append(.setTrim(speaker: speaker, decibels: bounded))
                    trimmed = true
                } else if trim <= -0.05 {
                    item["trimNotApplied"] = .string(
                        "\(known.displayName) cannot apply a trim (a snapclient, or an older Tutti speaker): turn its volume down by \(String(format: "%.1f", -trim)) dB by hand")
                }
            }
            for command in commands {
                do {
                    try apply(command, origin: nil)
                } catch {
                    throw RPCError(error)
                }
            }
            // What the model stored (it rounds a trim to 0.01 dB).
            if trimmed, let stored = model.speaker(speaker) { item["trimDb"] = .double(stored.trimDB) }
            if item.count > 1 { applied.append(.object(item)) }
        }
        calibrations[id]?.state = .applied
        calibrations[id]?.recording = []
        return ["applied": .array(applied)]
    }
}
