/// Measures how well several players played the same stream in sync, from outside: only from
/// what each wrote to its stdout and when the harness read it.
///
/// The method, in three steps (each in its own type):
/// 1. ``EmissionModel``: per player, the harness time at which each output frame was emitted,
///    fitted to the lower envelope of the read arrival stamps (which are only ever late) with
///    the player's clock rate as the slope — robust to reads that are delayed, split or merged.
/// 2. ``ContentAligner``: every `windowSpacing` of harness time, a window of `windowFrames` of
///    a reference player's mono output is found in each other player's output by normalized
///    cross-correlation (level-independent, sub-sample by parabolic interpolation). The
///    player's *delay* is its emission time of the matched content minus the reference's. The
///    reference is the first player audible at that time (the next one is tried when nobody
///    matches it), so a silent or broken player never blinds the measurement of the others.
/// 3. Per window, each measured player's *deviation* is its delay minus the median delay of
///    the measured players, which makes the choice of reference irrelevant; the group *skew*
///    is the latest minus the earliest. Windows before `settleAfter` stay in the series and
///    in "time to sync", but not in the statistics.
///
/// Beyond the plain recipe (windowed minimum of arrivals, correlation around a guess), three
/// things make it hold up on a busy harness: the envelope is taken *after* removing the clock
/// slope (a ±0.5 s minimum of a 100 ppm player is biased by up to 50 µs otherwise); write
/// tails that a descheduled harness read late are recognised (they look *early*, the one
/// error a lower envelope cannot shrug off); and the search tracks each player from window to
/// window, falling back to a decimated ±0.5 s search, so a player milliseconds out of sync is
/// measured rather than rejected.
///
/// Accuracy on the simulated captures of the tests (±100 ppm, 10–80 µs read jitter with 2 %
/// spikes of 1–5 ms, writes of 480 or 2400 frames read whole or in pieces): recovered minus
/// true deviation ≤ 1.3 µs at p50 and ≤ 4.5 µs at p99. Cost: about 0.02 s for ten seconds of
/// three players and 0.2 s for sixty seconds of six in a release build (0.2–0.4 s and 4 s in
/// a debug build). Pure: no I/O, no clock; time comes in with the captures.
///
/// Limits: a constant part of the harness's read delay is common to all players and cancels
/// in deviations and skew, but not in absolute times (first audio, in sync), which come out
/// late by it (~10 µs). Players written in larger blocks have fewer envelope points, and so
/// a slightly later envelope (~1 µs between 10 ms and 50 ms blocks in the tests). When
/// players join or leave, the group median moves, and so does everyone's deviation (the
/// skew does not). Mono mixing suits players of one stream; two halves of a stereo pair do
/// not correlate. Periodic music (a held chord) can correlate at the wrong period; the search
/// tracks from window to window and takes the highest peak, which keeps this rare.
public enum SyncAnalysis {
    /// Analyzes `players` (at least one) captured in `format`.
    ///
    /// - Parameters:
    ///   - startedAt: harness instant (CLOCK_MONOTONIC ns) the report's times count from —
    ///     typically when the players were started or the joining player was launched.
    ///   - settleAfter: harness instant before which windows are left out of the statistics.
    /// - Returns: a report with one ``PlayerSyncResult`` per capture, in order. With fewer than
    ///   two audible players there is nothing to compare: every player has zero measured
    ///   windows and nil statistics.
    public static func analyze(
        _ players: [PlayerCapture], format: CaptureFormat = CaptureFormat(), startedAt: Int64, settleAfter: Int64,
        options: SyncAnalysisOptions = SyncAnalysisOptions()
    ) -> SyncReport {
        var options = options
        options.sampleRate = format.sampleRate
        let models = players.map { EmissionModel.fit($0, format: format, origin: startedAt, options: options.emission) }
        let signals = players.map { MonoSignal(capture: $0, format: format) }
        var aligner = ContentAligner(signals: signals, models: models, options: options)
        var tally = [WindowTally](repeating: WindowTally(), count: players.count)
        var skewSeries: [DeviationPoint] = []
        var settledSkews: [Double] = []
        let settleTime = Double(settleAfter - startedAt)

        for time in windowTimes(models: models, options: options) {
            let emissions = measure(at: time, players: players.count, aligner: &aligner, tally: &tally)
            let measured = emissions.indices.filter { emissions[$0] != nil }
            guard measured.count >= 2 else { continue }
            let groupMedian = median(measured.map { emissions[$0]! })
            let seconds = time / 1e9
            for player in measured {
                let deviation = (emissions[player]! - groupMedian) / 1_000
                tally[player].series.append(DeviationPoint(seconds: seconds, microseconds: deviation))
                if time >= settleTime { tally[player].settled.append(deviation) }
            }
            let spread = (measured.map { emissions[$0]! }.max()! - measured.map { emissions[$0]! }.min()!) / 1_000
            skewSeries.append(DeviationPoint(seconds: seconds, microseconds: spread))
            if time >= settleTime { settledSkews.append(spread) }
        }

        let silence = Float(options.silenceLevel)
        let results = players.indices.map { index in
            let firstAudio = signals[index].firstFrame(louderThan: silence).map {
                Int64(models[index].emissionTime(ofFrame: Double($0)).rounded())
            }
            return PlayerSyncResult(
                name: players[index].name, measuredWindows: tally[index].series.count,
                rejectedWindows: tally[index].rejected, silentWindows: tally[index].silent,
                deviation: DeviationStatistics(of: tally[index].settled.map { abs($0) }),
                medianDeviationMicroseconds: tally[index].settled.isEmpty ? nil : median(tally[index].settled),
                firstAudioNanoseconds: firstAudio,
                inSyncNanoseconds: inSyncTime(tally[index].series, threshold: options.syncThresholdMicroseconds),
                clockPPM: models[index].clockPPM, series: tally[index].series
            )
        }
        return SyncReport(
            players: results, skew: DeviationStatistics(of: settledSkews), skewSeries: skewSeries, startedAt: startedAt,
            settleAfter: settleAfter, syncThresholdMicroseconds: options.syncThresholdMicroseconds,
            comparedWindows: skewSeries.count
        )
    }

    /// Per-player counters while the windows are walked.
    struct WindowTally {
        var series: [DeviationPoint] = []
        var settled: [Double] = []
        var rejected = 0
        var silent = 0
    }

    /// Window centre times (ns since origin, negative before it): every spacing from the
    /// earliest emission of any player to the last.
    static func windowTimes(models: [EmissionModel], options: SyncAnalysisOptions) -> [Double] {
        let spans = models.filter { $0.frameCount > 0 }.map { ($0.emissionTime(ofFrame: 0), $0.emissionTime(ofFrame: Double($0.frameCount))) }
        guard let first = spans.map(\.0).min(), let last = spans.map(\.1).max() else { return [] }
        let spacing = Double(max(options.windowSpacingNanoseconds, 1))
        var time = first
        var times: [Double] = []
        while time <= last {
            times.append(time)
            time += spacing
        }
        return times
    }

    /// Emission times of the content of the window at `time`, per player (nil where not
    /// measured), counting silent and rejected windows in `tally`.
    static func measure(at time: Double, players: Int, aligner: inout ContentAligner, tally: inout [WindowTally]) -> [Double?] {
        let audible = (0..<players).compactMap { player -> (Int, Int)? in
            guard let start = aligner.windowStart(of: player, at: time), !aligner.isSilent(player, from: start) else { return nil }
            return (player, start)
        }
        var outcomes: [ContentAligner.Outcome] = []
        for (reference, referenceStart) in audible.prefix(2) {
            outcomes = (0..<players).map { player in
                player == reference ? .matched(emission: aligner.models[reference].emissionTime(
                    ofFrame: Double(referenceStart) + Double(aligner.options.windowFrames) / 2))
                    : aligner.locate(player, reference: reference, referenceStart: referenceStart)
            }
            if outcomes.filter({ if case .matched = $0 { true } else { false } }).count >= 2 { break }
        }
        guard !outcomes.isEmpty else { return [Double?](repeating: nil, count: players) }
        return outcomes.enumerated().map { player, outcome in
            switch outcome {
            case .matched(let emission): return emission
            case .silent: tally[player].silent += 1
            case .rejected: tally[player].rejected += 1
            case .absent: break
            }
            return nil
        }
    }

    /// The time (ns) of the first window from which every measured window stayed under
    /// `threshold`; nil if the last one did not, or there is none.
    static func inSyncTime(_ series: [DeviationPoint], threshold: Double) -> Int64? {
        guard let last = series.last, abs(last.microseconds) < threshold else { return nil }
        var first = series.count - 1
        while first > 0, abs(series[first - 1].microseconds) < threshold { first -= 1 }
        return Int64((series[first].seconds * 1e9).rounded())
    }
}
