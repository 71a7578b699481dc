/// The knobs of ``SyncAnalysis``. The defaults measure 48 kHz music to a few microseconds and
/// analyze ten seconds of three players in well under a second (release build).
public struct SyncAnalysisOptions: Sendable {
    /// Frames per correlation window (2048 ≈ 43 ms at 48 kHz): longer is steadier on tonal
    /// music and slower; shorter follows faster changes.
    public var windowFrames = 2048
    /// Harness time between window centres.
    public var windowSpacingNanoseconds: Int64 = 100_000_000
    /// ± frames searched around the emission models' guess (96 = 2 ms at 48 kHz).
    public var searchRadiusFrames = 96
    /// ± frames searched around the previous window's match while tracking.
    public var trackingRadiusFrames = 16
    /// ± range of the coarse search, for players that are far out of sync (or when tracking is
    /// lost). Its cost grows linearly with the range.
    public var coarseSearchNanoseconds: Int64 = 500_000_000
    /// Least peak normalized correlation for a window to count (0…1).
    public var minimumCorrelation = 0.9
    /// RMS level (full scale 1.0) under which a window is silent; also the level of a player's
    /// "first audible frame". 0.001 is −60 dBFS.
    public var silenceLevel = 0.001
    /// |deviation| under which a player counts as in sync, for ``PlayerSyncResult/inSyncNanoseconds``.
    public var syncThresholdMicroseconds = 100.0
    /// How the per-player emission models are fitted.
    public var emission = EmissionModel.Options()
    /// Set by ``SyncAnalysis`` from the capture format.
    var sampleRate = 48_000

    public init() {}
}
