/// The result of ``SyncAnalysis/analyze(_:format:startedAt:settleAfter:options:)``: how far
/// each player's output was from the group's, window by window, and summaries of it.
///
/// Signs: a positive deviation means the player emitted the content *later* than the group
/// (the median player). Times in the series are seconds since the caller's `startedAt`.
public struct SyncReport: Sendable {
    /// One entry per capture, in the order given.
    public var players: [PlayerSyncResult]
    /// Spread of the group per window (latest minus earliest measured player), over windows
    /// after `settleAfter` in which at least two players were measured; nil when there were none.
    public var skew: DeviationStatistics?
    /// That spread over time (all windows with at least two players measured).
    public var skewSeries: [DeviationPoint]
    /// The caller's start instant (harness CLOCK_MONOTONIC nanoseconds).
    public var startedAt: Int64
    /// Windows before this instant are left out of the statistics (not the series).
    public var settleAfter: Int64
    /// |deviation| below which a player counts as in sync.
    public var syncThresholdMicroseconds: Double
    /// Windows in which at least two players were measured.
    public var comparedWindows: Int

    public init(
        players: [PlayerSyncResult], skew: DeviationStatistics?, skewSeries: [DeviationPoint], startedAt: Int64,
        settleAfter: Int64, syncThresholdMicroseconds: Double, comparedWindows: Int
    ) {
        self.players = players
        self.skew = skew
        self.skewSeries = skewSeries
        self.startedAt = startedAt
        self.settleAfter = settleAfter
        self.syncThresholdMicroseconds = syncThresholdMicroseconds
        self.comparedWindows = comparedWindows
    }

    /// Seconds from `startedAt` to `settleAfter`.
    public var settleSeconds: Double { Double(settleAfter - startedAt) / 1e9 }
}

/// What the analysis found for one player.
public struct PlayerSyncResult: Sendable {
    /// The capture's name.
    public var name: String
    /// Windows in which this player's position was measured (at any time, settling included).
    public var measuredWindows: Int
    /// Windows in which it played something that did not match the group's content well enough
    /// (peak correlation under the threshold, or no peak inside the search range).
    public var rejectedWindows: Int
    /// Windows in which it was silent while another player was not.
    public var silentWindows: Int
    /// |deviation| after settling; nil when no window after settling measured it.
    public var deviation: DeviationStatistics?
    /// Median signed deviation after settling (µs): a constant offset of this player.
    public var medianDeviationMicroseconds: Double?
    /// When its first audible frame was emitted, nanoseconds after `startedAt` (negative if
    /// before); nil if it never played anything audible.
    public var firstAudioNanoseconds: Int64?
    /// The start of the first window from which on every measured window had |deviation| under
    /// the threshold, nanoseconds after `startedAt`; nil if its last measured window was not.
    public var inSyncNanoseconds: Int64?
    /// Its output clock against the harness clock (ppm; positive = more frames per second).
    public var clockPPM: Double
    /// Its deviation over time.
    public var series: [DeviationPoint]

    public init(
        name: String, measuredWindows: Int, rejectedWindows: Int, silentWindows: Int, deviation: DeviationStatistics?,
        medianDeviationMicroseconds: Double?, firstAudioNanoseconds: Int64?, inSyncNanoseconds: Int64?,
        clockPPM: Double, series: [DeviationPoint]
    ) {
        self.name = name
        self.measuredWindows = measuredWindows
        self.rejectedWindows = rejectedWindows
        self.silentWindows = silentWindows
        self.deviation = deviation
        self.medianDeviationMicroseconds = medianDeviationMicroseconds
        self.firstAudioNanoseconds = firstAudioNanoseconds
        self.inSyncNanoseconds = inSyncNanoseconds
        self.clockPPM = clockPPM
        self.series = series
    }

    /// Like ``inSyncNanoseconds`` with another threshold: the start of the first window from
    /// which on every measured window had |deviation| under `microseconds`.
    public func inSyncNanoseconds(underMicroseconds microseconds: Double) -> Int64? {
        SyncAnalysis.inSyncTime(series, threshold: microseconds)
    }
}

/// One point of a deviation series.
public struct DeviationPoint: Sendable, Equatable {
    /// Seconds since the analysis's `startedAt`.
    public var seconds: Double
    /// Deviation in microseconds.
    public var microseconds: Double

    public init(seconds: Double, microseconds: Double) {
        self.seconds = seconds
        self.microseconds = microseconds
    }
}

/// Order statistics of a set of magnitudes, in microseconds.
public struct DeviationStatistics: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var max: Double

    public init(count: Int, p50: Double, p99: Double, max: Double) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }

    /// Statistics of `values` (taken as they are: pass magnitudes for |deviation|); nil when
    /// empty. Percentiles interpolate linearly between order statistics.
    public init?(of values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        self.init(count: sorted.count, p50: Self.percentile(0.5, ofSorted: sorted),
                  p99: Self.percentile(0.99, ofSorted: sorted), max: sorted[sorted.count - 1])
    }

    /// The `fraction` quantile (0…1) of ascending `sorted`, interpolated; 0 when empty.
    public static func percentile(_ fraction: Double, ofSorted sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = Swift.min(Swift.max(fraction, 0), 1) * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = Swift.min(below + 1, sorted.count - 1)
        let weight = position - Double(below)
        return sorted[below] * (1 - weight) + sorted[above] * weight
    }
}
