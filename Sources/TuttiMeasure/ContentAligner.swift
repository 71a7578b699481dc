/// Finds, for a window of a reference player's output, the frame position at which another
/// player emitted the same content — the step between the emission models and the deviation.
///
/// Search order, cheapest first:
/// 1. *tracking*: ±``SyncAnalysisOptions/trackingRadiusFrames`` around where the last window put
///    this player relative to this reference (the offset changes by microseconds per window);
/// 2. *fine*: ±``SyncAnalysisOptions/searchRadiusFrames`` around the model's guess (the frame
///    the player emitted at the same harness time) plus that tracked offset;
/// 3. *coarse*: on the decimated signals, a window four times longer, over
///    ±``SyncAnalysisOptions/coarseSearchNanoseconds``; its best peak (ρ ≥ 0.7) is then refined
///    by a fine search. A failed coarse search is not retried for this player for one second.
///
/// A match counts when its peak correlation reaches ``SyncAnalysisOptions/minimumCorrelation``
/// and it is not on the edge of its search range. The state (tracked offsets, coarse back-off)
/// makes this a struct with mutating methods; it does no I/O.
struct ContentAligner {
    enum Outcome: Equatable {
        /// The other player's emission of the matched content, nanoseconds since origin.
        case matched(emission: Double)
        /// Its window was silent.
        case silent
        /// It played, but nothing matched well enough.
        case rejected
        /// Its capture does not cover this window (not started yet, or over).
        case absent
    }

    let signals: [MonoSignal]
    let models: [EmissionModel]
    let options: SyncAnalysisOptions
    /// Frames the match was found away from the model's guess, per (reference, player).
    private var trackedOffsets: [Int: Double] = [:]
    /// Harness time (ns since origin) before which no coarse search is tried, per player.
    private var coarseBlockedUntil: [Int: Double] = [:]

    init(signals: [MonoSignal], models: [EmissionModel], options: SyncAnalysisOptions) {
        self.signals = signals
        self.models = models
        self.options = options
    }

    /// The first frame of `player`'s window centred on what it emitted at `time`, or nil if the
    /// window does not lie inside its capture.
    func windowStart(of player: Int, at time: Double) -> Int? {
        let half = Double(options.windowFrames) / 2
        let start = Int((models[player].frame(emittedAt: time) - half).rounded())
        return start >= 0 && start + options.windowFrames <= signals[player].count ? start : nil
    }

    /// Whether `player`'s window from `start` is quieter than the silence level.
    func isSilent(_ player: Int, from start: Int) -> Bool {
        signals[player].rms(from: start, length: options.windowFrames) < options.silenceLevel
    }

    /// Locates in `player` the content of `reference`'s window starting at `referenceStart`.
    mutating func locate(_ player: Int, reference: Int, referenceStart: Int) -> Outcome {
        let window = options.windowFrames
        let referenceCenter = Double(referenceStart) + Double(window) / 2
        let referenceTime = models[reference].emissionTime(ofFrame: referenceCenter)
        let modelCenter = models[player].frame(emittedAt: referenceTime)
        let key = reference * 1_000_003 + player
        let tracked = trackedOffsets[key]
        let guessStart = Int((modelCenter + (tracked ?? 0) - Double(window) / 2).rounded())
        guard guessStart >= 0, guessStart + window <= signals[player].count else { return .absent }
        if isSilent(player, from: guessStart) { return .silent }

        var peak: CrossCorrelation.Peak?
        if tracked != nil { peak = fineMatch(player, reference, referenceStart, around: guessStart, radius: options.trackingRadiusFrames) }
        if peak == nil { peak = fineMatch(player, reference, referenceStart, around: guessStart, radius: options.searchRadiusFrames) }
        if peak == nil, referenceTime >= coarseBlockedUntil[player, default: -.infinity] {
            peak = coarseMatch(player, reference, referenceStart, guessCenter: modelCenter + (tracked ?? 0))
            if peak == nil { coarseBlockedUntil[player] = referenceTime + 1e9 }
        }
        guard let peak else { return .rejected }
        let matchedCenter = peak.start + Double(window) / 2
        trackedOffsets[key] = matchedCenter - modelCenter
        return .matched(emission: models[player].emissionTime(ofFrame: matchedCenter))
    }

    private func fineMatch(_ player: Int, _ reference: Int, _ referenceStart: Int, around start: Int, radius: Int) -> CrossCorrelation.Peak? {
        guard let peak = CrossCorrelation.bestMatch(
            reference: signals[reference].samples, referenceStart: referenceStart, length: options.windowFrames,
            other: signals[player].samples, candidates: (start - radius)...(start + radius)
        ), peak.correlation >= options.minimumCorrelation, !peak.atEdge else { return nil }
        return peak
    }

    private func coarseMatch(_ player: Int, _ reference: Int, _ referenceStart: Int, guessCenter: Double) -> CrossCorrelation.Peak? {
        let step = MonoSignal.decimation
        let coarseLength = 4 * options.windowFrames / step
        let referenceCenter = referenceStart + options.windowFrames / 2
        let coarseReferenceStart = (referenceCenter - coarseLength * step / 2) / step
        let radius = Int(Double(options.coarseSearchNanoseconds) * Double(options.sampleRate) / 1e9) / step
        let coarseGuess = Int((guessCenter / Double(step)).rounded()) - coarseLength / 2
        guard coarseReferenceStart >= 0, let coarse = CrossCorrelation.bestMatch(
            reference: signals[reference].decimated, referenceStart: coarseReferenceStart, length: coarseLength,
            other: signals[player].decimated, candidates: (coarseGuess - radius)...(coarseGuess + radius)
        ), coarse.correlation >= 0.7 else { return nil }
        let frameShift = Int(((coarse.start - Double(coarseReferenceStart)) * Double(step)).rounded())
        return fineMatch(player, reference, referenceStart, around: referenceStart + frameShift, radius: 3 * step)
    }
}
