import Foundation

/// When each speaker plays its test bursts during a calibration run: one after another in
/// slots long enough for the longest delay looked for, the whole round repeated, so that each
/// speaker is heard several times (repeats that agree are what makes a result trustworthy,
/// and their spacing shows a microphone whose clock runs at another rate).
public struct CalibrationPlan: Sendable, Equatable {
    public struct Emission: Sendable, Equatable {
        public var speaker: String
        /// Which repeat, from 0.
        public var round: Int
        /// When it starts, seconds after the run's start.
        public var offset: Double
    }

    public var speakers: [String]
    /// The sample rate the bursts are made at.
    public var rate: Int
    public var burstSeconds: Double
    /// The longest delay looked for, seconds (Bluetooth speakers reach 500 ms and more).
    public var maxDelaySeconds: Double
    /// How far off the recording's start time may be (0 when the microphone's clock is the
    /// server's; a phone that only knows roughly when it started recording needs more).
    public var timingUncertaintySeconds: Double
    public var emissions: [Emission]
    /// How long the run takes, seconds, until the last burst can have arrived.
    public var duration: Double

    /// - Parameters:
    ///   - lead: silence before the first burst, seconds.
    ///   - reverbSeconds: room for the room's echo after each burst.
    public init(
        speakers: [String], rate: Int = 48_000, rounds: Int = 3, burstSeconds: Double = 0.25, maxDelaySeconds: Double = 0.8,
        timingUncertaintySeconds: Double = 0, reverbSeconds: Double = 0.3, lead: Double = 0.2
    ) {
        self.speakers = speakers
        self.rate = rate
        self.burstSeconds = burstSeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.timingUncertaintySeconds = timingUncertaintySeconds
        let slot = burstSeconds + maxDelaySeconds + reverbSeconds + 2 * timingUncertaintySeconds
        var emissions: [Emission] = []
        for round in 0..<max(1, rounds) {
            for (index, speaker) in speakers.enumerated() {
                emissions.append(Emission(speaker: speaker, round: round, offset: lead + Double(round * speakers.count + index) * slot))
            }
        }
        self.emissions = emissions
        duration = (emissions.last?.offset ?? 0) + slot
    }

    /// The burst a speaker plays (different for every speaker of the plan), at `rate`.
    public func signal(for speaker: String, rate: Int? = nil) -> [Float] {
        let index = speakers.firstIndex(of: speaker) ?? 0
        let burst = CalibrationSignal.noiseBurst(seed: 0x7477_7474_6900 + UInt64(index), rate: self.rate, seconds: burstSeconds)
        guard let rate, rate != self.rate else { return burst }
        return Resampling.linear(burst, from: self.rate, to: rate)
    }
}

/// What one calibration run found for one speaker.
public struct CalibrationMeasurement: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Found in every (or most) repeats, which agree.
        case measured
        /// Not found clearly enough in the recording: silent, far too quiet, or drowned in
        /// noise. No delay is given.
        case tooQuiet = "too_quiet"
        /// Found, but the repeats disagree by more than a millisecond (echoes, a speaker that
        /// changes its delay while playing): the delay given is their median, not to be trusted.
        case inconsistent
    }

    public var speaker: String
    public var status: Status
    /// Seconds: when the sound arrived after it was scheduled (absolute), or after the
    /// reference speaker's (relative). nil when too quiet.
    public var delay: Double?
    /// How loud the speaker is at the microphone: the gain from the burst it was sent to the
    /// burst recorded, dB (0: recorded as loud as sent; −20: a tenth of it). Speakers compared
    /// by this are compared as a listener at the microphone hears them.
    public var levelDB: Double?
    /// How far the correlation peak stands above the rest, dB, in its weakest repeat that
    /// was found (20 dB: clear; below ``CalibrationAnalysis/minimumPeakToSidelobeDB``: not found).
    public var peakToSidelobeDB: Double
    /// Largest difference between repeats once the microphone's rate is allowed for, ms.
    public var spreadMs: Double?
    /// Repeats found, of those played.
    public var found: Int
    public var played: Int
}

/// The result of a run: each speaker's measurement, and what was learnt of the microphone.
public struct CalibrationResult: Sendable, Equatable {
    public var measurements: [CalibrationMeasurement]
    /// True: delays are absolute (the recording's clock is the server's). False: relative to
    /// ``reference``.
    public var absolute: Bool
    /// The speaker relative delays are measured against (the first one measured).
    public var reference: String?
    /// How much faster the microphone's clock ran than the speakers', ppm (from the spacing
    /// of the repeats; nil with one repeat).
    public var microphoneRatePPM: Double?

    public func measurement(_ speaker: String) -> CalibrationMeasurement? { measurements.first { $0.speaker == speaker } }

    /// Volume trims that make the measured speakers equally loud at the microphone: each is
    /// turned down to the quietest one's level (dB, 0 or less; never up, which could clip).
    /// Speakers too quiet to measure get none.
    public var volumeTrimsDB: [String: Double] {
        let levels = measurements.compactMap { measurement in measurement.status == .measured ? measurement.levelDB.map { (measurement.speaker, $0) } : nil }
        guard let quietest = levels.map(\.1).min() else { return [:] }
        return Dictionary(levels.map { ($0.0, quietest - $0.1) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Finds each speaker's bursts in a microphone recording by cross-correlation (FFT), to a
/// fraction of a sample, and turns their arrival times into delays. Pure.
public enum CalibrationAnalysis {
    /// Below this, a correlation peak is indistinguishable from noise: the maximum of the
    /// correlation of a burst with pure noise over a second's window stands about 12–14 dB above
    /// its RMS.
    public static let minimumPeakToSidelobeDB = 20.0

    /// Repeats further apart than this (after the rate fit) make a result inconsistent, ms.
    public static let maximumSpreadMs = 1.0

    /// - Parameters:
    ///   - recording: mono samples at `rate`.
    ///   - start: when the recording's first sample was taken, seconds after the run's start
    ///     (exact when the microphone's clock is the server's; otherwise a guess within the
    ///     plan's timing uncertainty).
    ///   - clockKnown: whether `start` is exact: delays are then absolute.
    public static func analyze(recording: [Float], rate: Int, start: Double, plan: CalibrationPlan, clockKnown: Bool) -> CalibrationResult {
        var arrivals: [String: [(scheduled: Double, arrived: Double, psr: Double, level: Double)]] = [:]
        var bestMiss: [String: Double] = [:]
        for emission in plan.emissions {
            let template = plan.signal(for: emission.speaker, rate: rate)
            let from = emission.offset - plan.timingUncertaintySeconds - 0.01 - start
            let to = emission.offset + plan.maxDelaySeconds + plan.burstSeconds + plan.timingUncertaintySeconds + 0.01 - start
            let first = max(0, Int((from * Double(rate)).rounded(.down)))
            let last = min(recording.count, Int((to * Double(rate)).rounded(.up)))
            guard last - first >= template.count else { continue }
            guard let peak = findBurst(template, in: Array(recording[first..<last])) else { continue }
            guard peak.psrDB >= minimumPeakToSidelobeDB else {
                bestMiss[emission.speaker] = max(bestMiss[emission.speaker] ?? 0, peak.psrDB)
                continue
            }
            let arrived = start + (Double(first) + peak.position) / Double(rate)
            arrivals[emission.speaker, default: []].append((emission.offset, arrived, peak.psrDB, peak.levelDB))
        }
        // One rate for the microphone, one delay per speaker: arrived − scheduled = d + ε·scheduled.
        // A speaker counts as found when more than half of its bursts were.
        let found = plan.speakers.filter { speaker in
            (arrivals[speaker]?.count ?? 0) * 2 > plan.emissions.filter { $0.speaker == speaker }.count
        }
        let epsilon = microphoneRate(found.compactMap { speaker in arrivals[speaker]?.map { (scheduled: $0.scheduled, arrived: $0.arrived) } })
        var measurements: [CalibrationMeasurement] = []
        for speaker in plan.speakers {
            let played = plan.emissions.filter { $0.speaker == speaker }.count
            let heard = arrivals[speaker] ?? []
            guard found.contains(speaker) else {
                let best = max(bestMiss[speaker] ?? 0, heard.map(\.psr).max() ?? 0)
                measurements.append(CalibrationMeasurement(
                    speaker: speaker, status: .tooQuiet, delay: nil, levelDB: nil, peakToSidelobeDB: best, spreadMs: nil,
                    found: heard.count, played: played))
                continue
            }
            let delays = heard.map { $0.arrived - $0.scheduled - (epsilon ?? 0) * $0.scheduled }.sorted()
            let median = delays[delays.count / 2]
            let mean = delays.reduce(0, +) / Double(delays.count)
            let spread = ((delays.last ?? 0) - (delays.first ?? 0)) * 1000
            let consistent = spread <= maximumSpreadMs
            let levels = heard.map(\.level).sorted()
            measurements.append(CalibrationMeasurement(
                speaker: speaker, status: consistent ? .measured : .inconsistent, delay: consistent ? mean : median,
                levelDB: levels[levels.count / 2], peakToSidelobeDB: heard.map(\.psr).min() ?? 0, spreadMs: spread,
                found: heard.count, played: played))
        }
        var reference: String?
        if !clockKnown, let anchor = measurements.first(where: { $0.status == .measured }) ?? measurements.first(where: { $0.delay != nil }),
           let anchorDelay = anchor.delay {
            reference = anchor.speaker
            for index in measurements.indices where measurements[index].delay != nil { measurements[index].delay! -= anchorDelay }
        }
        return CalibrationResult(measurements: measurements, absolute: clockKnown, reference: reference, microphoneRatePPM: epsilon.map { $0 * 1e6 })
    }

    /// The microphone's rate error: the slope of arrival offsets against schedule time that
    /// leaves the most speakers consistent (repeats within ``maximumSpreadMs``), the smaller
    /// slope on a tie — tried are the common least-squares slope, each speaker's own, and none —
    /// so that one speaker whose delay wanders does not tilt everyone else's. nil without two
    /// repeats of some speaker.
    static func microphoneRate(_ series: [[(scheduled: Double, arrived: Double)]]) -> Double? {
        guard let common = rateFit(series) else { return nil }
        let candidates = [common, 0] + series.compactMap { rateFit([$0]) }
        func score(_ slope: Double) -> (consistent: Int, size: Double) {
            let consistent = series.filter { points in
                let delays = points.map { $0.arrived - $0.scheduled - slope * $0.scheduled }
                return ((delays.max() ?? 0) - (delays.min() ?? 0)) * 1000 <= maximumSpreadMs
            }.count
            return (consistent, abs(slope))
        }
        return candidates.max { a, b in
            let (sa, sb) = (score(a), score(b))
            return sa.consistent != sb.consistent ? sa.consistent < sb.consistent : sa.size > sb.size
        }
    }

    /// The common slope of arrival offsets against schedule time (least squares, each speaker
    /// with its own intercept); nil without two repeats of some speaker.
    static func rateFit(_ series: [[(scheduled: Double, arrived: Double)]]) -> Double? {
        var numerator = 0.0
        var denominator = 0.0
        for points in series where points.count >= 2 {
            let meanT = points.map(\.scheduled).reduce(0, +) / Double(points.count)
            let meanY = points.map { $0.arrived - $0.scheduled }.reduce(0, +) / Double(points.count)
            for point in points {
                numerator += (point.scheduled - meanT) * (point.arrived - point.scheduled - meanY)
                denominator += (point.scheduled - meanT) * (point.scheduled - meanT)
            }
        }
        return denominator > 0 ? numerator / denominator : nil
    }

    /// Where a burst starts in a window, to a fraction of a sample, with how clearly it stands
    /// out and its level.
    struct Found {
        var position: Double
        var psrDB: Double
        var levelDB: Double
    }

    static func findBurst(_ template: [Float], in window: [Float]) -> Found? {
        let correlation = FFT.crossCorrelation(window, template)
        guard correlation.count >= 3 else { return nil }
        var best = 0
        for index in correlation.indices where abs(correlation[index]) > abs(correlation[best]) { best = index }
        let peak = abs(correlation[best])
        guard peak > 0 else { return nil }
        // The rest: everything but the peak's own lobe (±2 ms of it).
        let exclusion = max(8, template.count / 100)
        var sum = 0.0
        var count = 0
        for index in correlation.indices where abs(index - best) > exclusion {
            sum += correlation[index] * correlation[index]
            count += 1
        }
        let sidelobe = count > 0 ? (sum / Double(count)).squareRoot() : 0
        let psr = sidelobe > 0 ? 20 * log10(peak / sidelobe) : 200
        var offset = 0.0
        if best > 0, best + 1 < correlation.count {
            let (a, b, c) = (abs(correlation[best - 1]), peak, abs(correlation[best + 1]))
            let curvature = a - 2 * b + c
            if curvature < 0 { offset = max(-0.5, min(0.5, 0.5 * (a - c) / curvature)) }
        }
        // The template's gain in the window: the least-squares scale of the burst as received.
        let templateEnergy = template.reduce(0.0) { $0 + Double($1) * Double($1) }
        let gain = peak / templateEnergy
        return Found(position: Double(best) + offset, psrDB: psr, levelDB: 20 * log10(max(gain, 1e-12)))
    }
}

/// Changing a signal's sample rate by linear interpolation: enough for band-limited test
/// bursts far below either Nyquist frequency.
enum Resampling {
    static func linear(_ input: [Float], from source: Int, to target: Int) -> [Float] {
        guard source != target, !input.isEmpty else { return input }
        let count = Int((Double(input.count) * Double(target) / Double(source)).rounded())
        let step = Double(source) / Double(target)
        return (0..<count).map { index in
            let position = Double(index) * step
            let base = min(Int(position), input.count - 1)
            let fraction = Float(position - Double(base))
            let next = min(base + 1, input.count - 1)
            return input[base] + (input[next] - input[base]) * fraction
        }
    }
}
