import TuttiTiming

extension PlayoutScheduler {
    /// Fills one output period and advances the playout. Real-time safe (see the type's Threads).
    ///
    /// - Parameters:
    ///   - output: `frames × channels` interleaved Float samples to fill (fully written:
    ///     silence where there is nothing to play).
    ///   - localNow: the local clock now.
    ///   - outputDelay: nanoseconds until a frame written now reaches the DAC, as the device reports.
    ///   - clock: the newest ``ClockMapping``; nil (not locked yet) plays silence.
    public mutating func render(
        into output: UnsafeMutableBufferPointer<Float>, frames: Int, localNow: Nanos, outputDelay: Nanos,
        clock: ClockMapping?
    ) -> Report {
        let channels = configuration.channels
        var report = plan(frames: frames, localNow: localNow, outputDelay: outputDelay, clock: clock)
        guard let anchor = playingAnchor else {
            for i in 0..<(frames * channels) { output[i] = 0 }
            return report
        }
        if report.action == .silent {
            for i in 0..<(frames * channels) { output[i] = 0 }
        } else {
            let range = resampler.sourceFrames(forOutput: frames)
            reserveCapacity(frames: range.count)
            var window = scratch
            scratch = []
            window.withUnsafeMutableBufferPointer { buffer in
                let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<(range.count * channels)])
                jitter.gather(anchor: anchor, range: range, into: part)
                if silenceBefore > range.lowerBound {
                    let silent = Int(min(silenceBefore, range.upperBound) - range.lowerBound)
                    for i in 0..<(silent * channels) { part[i] = 0 }
                }
                resampler.render(from: UnsafeBufferPointer(part), sourceStart: range.lowerBound, into: output, frames: frames)
            }
            scratch = window
            if fadeRemaining > 0 {
                let total = Float(configuration.fadeInFrames)
                for i in 0..<min(frames, fadeRemaining) {
                    let gain = 1 - Float(fadeRemaining - i) / total
                    for c in 0..<channels { output[i * channels + c] *= gain }
                }
                fadeRemaining = max(0, fadeRemaining - frames)
            }
        }
        finish(frames: frames, anchor: anchor, report: &report)
        return report
    }

    /// ``render(into:frames:localNow:outputDelay:clock:)`` into an array, resized as needed
    /// (allocates; for tests and offline use).
    public mutating func render(
        into output: inout [Float], frames: Int, localNow: Nanos, outputDelay: Nanos, clock: ClockMapping?
    ) -> Report {
        let count = frames * configuration.channels
        if output.count != count { output = [Float](repeating: 0, count: count) }
        return output.withUnsafeMutableBufferPointer {
            render(into: $0, frames: frames, localNow: localNow, outputDelay: outputDelay, clock: clock)
        }
    }

    /// Makes exactly the decisions of a render and advances the same way, without computing
    /// samples: the long simulations run the real playout logic on positions alone.
    public mutating func advance(frames: Int, localNow: Nanos, outputDelay: Nanos, clock: ClockMapping?) -> Report {
        var report = plan(frames: frames, localNow: localNow, outputDelay: outputDelay, clock: clock)
        guard let anchor = playingAnchor else { return report }
        if report.action != .silent { resampler.skip(frames: frames) }
        if fadeRemaining > 0 { fadeRemaining = max(0, fadeRemaining - frames) }
        finish(frames: frames, anchor: anchor, report: &report)
        return report
    }

    var playingAnchor: Nanos? {
        if case .playing(let anchor) = state { anchor } else { nil }
    }

    /// The decisions of a period: due position, start / hard sync / correction, ratio.
    mutating func plan(frames: Int, localNow: Nanos, outputDelay: Nanos, clock: ClockMapping?) -> Report {
        var report = Report(action: .silent, sourceTime: nil, error: 0, ratio: 1, framesFromSource: 0, ranDry: false)
        guard let clock else {
            state = .idle
            return report
        }
        // The source instant that must leave the DAC when this period's first frame does.
        let dueTime = clock.serverTime(atLocal: localNow &+ outputDelay) &- buffer &+ latency
        lastDue = dueTime
        if case .idle = state {
            guard let anchor = jitter.runAnchor(endingAfter: dueTime) else { return report }
            state = .playing(anchor: anchor)
            resampler.position = FramePosition(jitter.frames(nanos: Double(dueTime &- anchor)))
            silenceBefore = .min
            report.action = .started
            statistics.starts += 1
        }
        guard let anchor = playingAnchor else { return report }
        let due = FramePosition(jitter.frames(nanos: Double(dueTime &- anchor)))
        var correction = 0.0
        if report.action != .started {
            let errorFrames = due.distance(to: resampler.position)
            report.error = jitter.duration(frames: errorFrames)
            if abs(report.error) > Double(configuration.hardSyncThreshold) {
                // Ahead: never replay what already played; the gap plays as silence.
                if errorFrames > 0 {
                    let played = resampler.position
                    silenceBefore = max(silenceBefore, played.fraction == 0 ? played.frame : played.frame + 1)
                }
                resampler.position = due
                report.action = .hardSync(frames: -errorFrames)
                statistics.hardSyncs += 1
                fadeRemaining = configuration.fadeInFrames
            } else {
                report.action = .corrected
                correction = controller.update(
                    error: report.error / 1e9, interval: Double(frames) / Double(configuration.sampleRate))
            }
        }
        let limit = 1 + 4 * configuration.maximumCorrection
        resampler.ratio = min(max(clock.rate * (1 + correction), 1 / limit), limit)
        report.ratio = resampler.ratio
        let position = resampler.position
        report.sourceTime = anchor &+ Nanos(jitter.duration(frames: Double(position.frame) + position.fraction).rounded())
        return report
    }

    /// After the samples: count what played, detect the end of the run, drop consumed audio.
    mutating func finish(frames: Int, anchor: Nanos, report: inout Report) {
        let end = jitter.end(ofRunAnchoredAt: anchor)
        let after = resampler.position
        let start = after.advanced(by: -resampler.ratio * Double(frames))
        let low = max(0, silenceBefore)
        if let end, report.action != .silent {
            let first = max(0, ((Double(low) - Double(start.frame) - start.fraction) / resampler.ratio).rounded(.up))
            let last = min(Double(frames), ((Double(end) - Double(start.frame) - start.fraction) / resampler.ratio).rounded(.up))
            report.framesFromSource = Int(max(0, last - first))
        }
        if end.map({ after.frame - Int64(FractionalResampler.halfWidth) >= $0 }) ?? true {
            state = .idle
            if !jitter.hasRun(after: anchor) {
                report.ranDry = true
                statistics.underruns += 1
            }
        }
        jitter.discard(anchor: anchor, before: after.frame - Int64(FractionalResampler.halfWidth) - 1)
    }
}

/// A PI controller turning a playout error (seconds, + = ahead) into a relative rate correction,
/// clamped to ±limit, with conditional integration against wind-up.
struct RateController: Sendable {
    let proportionalGain: Double
    let integralGain: Double
    let limit: Double
    var integral = 0.0

    init(proportionalGain: Double, integralGain: Double, limit: Double) {
        self.proportionalGain = proportionalGain
        self.integralGain = integralGain
        self.limit = limit
    }

    mutating func update(error: Double, interval: Double) -> Double {
        let proposed = integral + error * interval
        let output = -(proportionalGain * error + integralGain * proposed)
        if abs(output) <= limit {
            integral = proposed
            return output
        }
        return max(-limit, min(limit, -(proportionalGain * error + integralGain * integral)))
    }

    mutating func reset() { integral = 0 }
}
