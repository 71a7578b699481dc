/// How hard the encoder searches, per compression level 0...8.
///
/// The levels follow the presets of the reference encoder (`flac` 1.4, its `--help` and manual):
///
/// | level | block | max LPC order | partition orders | stereo | apodization (LPC windows) |
/// |---|---|---|---|---|---|
/// | 0 | 1152 | 0 (fixed only) | 0...3 | independent | – |
/// | 1 | 1152 | 0 (fixed only) | 0...3 | adaptive (`-M`) | – |
/// | 2 | 1152 | 0 (fixed only) | 0...3 | exhaustive (`-m`) | – |
/// | 3 | 4096 | 6 | 0...4 | independent | tukey(0.5) |
/// | 4 | 4096 | 8 | 0...4 | adaptive (`-M`) | tukey(0.5) |
/// | 5 | 4096 | 8 | 0...5 | exhaustive (`-m`) | tukey(0.5) |
/// | 6 | 4096 | 8 | 0...6 | exhaustive | subdivide_tukey(2): tukey(0.25), 2 halves |
/// | 7 | 4096 | 12 | 0...6 | exhaustive | subdivide_tukey(2) |
/// | 8 | 4096 | 12 | 0...6 | exhaustive | subdivide_tukey(3): + 3 thirds, 3 punch-outs |
///
/// (`flac` 1.4 uses no exhaustive model search, `-e`, at any level; older releases used it at
/// 7 and 8. Its `subdivide_tukey(n)` stands for tukey, partial_tukey(2...n) and
/// punchout_tukey(3...n) with one taper for all.)
///
/// Tutti's own choices, not the reference's:
/// - the LPC order is the one with the smallest size estimated from the Levinson–Durbin
///   prediction error (one predictor coded per window, as without `-e`);
/// - the coefficient precision follows ``coefficientPrecision(bitsPerSample:blockSize:)``;
/// - adaptive stereo picks the pair from fixed-predictor residual magnitudes and codes only it;
/// - at levels 6–8 the stereo pair is chosen after the first (whole-block) window, and the
///   other windows are tried on the two chosen channels only;
/// - a punch-out window is the partial windows of the other parts side by side, so its
///   autocorrelation is the sum of theirs and costs nothing extra;
/// - partitions whose residual is all zero use the escape code with zero-bit samples.
struct FLACEncoderSettings: Sendable, Equatable {
    /// How the two channels of a stereo stream are decorrelated.
    enum StereoMode: Sendable, Equatable {
        /// Left and right coded as they are.
        case independent
        /// The pair (of left/right, left/side, side/right, mid/side) with the smallest estimated
        /// size is chosen from cheap fixed-predictor residual sums, then only it is coded.
        case adaptive
        /// All four channels are coded and the smallest pair wins.
        case exhaustive
    }

    /// One LPC analysis window, as a list of the parts of the block it covers.
    enum Apodization: Sendable, Equatable {
        /// A tukey window over the whole block; `taper` is the tapered fraction (0 = rectangle).
        case tukey(taper: Double)
        /// Part `index` of `parts` equal parts of the block, tukey-windowed within itself.
        case partialTukey(parts: Int, index: Int, taper: Double)
        /// The whole block except part `index` of `parts`: the other parts' partial windows.
        case punchoutTukey(parts: Int, index: Int, taper: Double)
    }

    /// Samples per channel in a block (the last block of a file may be shorter).
    var blockSize: Int
    /// Largest LPC order tried; 0 means fixed predictors only.
    var maxLPCOrder: Int
    /// Smallest and largest Rice partition order searched.
    var minPartitionOrder: Int
    var maxPartitionOrder: Int
    /// How stereo is decorrelated (ignored for other channel counts).
    var stereo: StereoMode
    /// The LPC windows tried; each yields one predictor and the smallest coding wins.
    var apodizations: [Apodization]
    /// With exhaustive stereo: whether the channel pair is chosen after the first window, the
    /// other windows then being tried on the chosen pair only (instead of on all four channels).
    var choosePairEarly: Bool

    /// The settings of `level` (clamped to 0...8).
    init(level: Int, blockSize: Int? = nil) {
        let level = min(max(level, 0), 8)
        self.blockSize = blockSize ?? (level <= 2 ? 1152 : 4096)
        maxLPCOrder = [0, 0, 0, 6, 8, 8, 8, 12, 12][level]
        minPartitionOrder = 0
        maxPartitionOrder = [3, 3, 3, 4, 4, 5, 6, 6, 6][level]
        stereo = [.independent, .adaptive, .exhaustive, .independent, .adaptive, .exhaustive, .exhaustive, .exhaustive, .exhaustive][level]
        choosePairEarly = level >= 6
        switch level {
        case 0...5:
            apodizations = [.tukey(taper: 0.5)]
        case 6, 7:
            apodizations = Self.subdivideTukey(2)
        default:
            apodizations = Self.subdivideTukey(3)
        }
    }

    /// A whole-block tukey window plus, for every `k` in 2...`parts`, the `k` partial windows and
    /// (for `k` > 2, where they differ from partial ones) the `k` punch-out windows. The taper
    /// is 0.5 of the smallest part, the same fraction of the block for every window.
    static func subdivideTukey(_ parts: Int) -> [Apodization] {
        let taper = 0.5 / Double(parts)
        var list: [Apodization] = [.tukey(taper: taper)]
        for k in stride(from: 2, through: parts, by: 1) {
            let partTaper = min(taper * Double(k), 1)
            for index in 0..<k { list.append(.partialTukey(parts: k, index: index, taper: partTaper)) }
            if k > 2 {
                for index in 0..<k { list.append(.punchoutTukey(parts: k, index: index, taper: partTaper)) }
            }
        }
        return list
    }

    /// Bits per quantized LPC coefficient (sign included; FLAC allows 1...15).
    ///
    /// Tutti's own rule, tuned on music-like material: longer blocks amortize more coefficient
    /// bits (one more bit per doubling, 11 bits for 4096 samples of 16 bits), deeper samples
    /// need finer predictors (half a bit per extra sample bit), shallow ones coarser.
    static func coefficientPrecision(bitsPerSample: Int, blockSize: Int) -> Int {
        let lengthBits = Int.bitWidth - 1 - max(blockSize, 1).leadingZeroBitCount  // ⌊log₂ n⌋
        var precision = lengthBits - 1 + max(bitsPerSample - 16, 0) / 2
        if bitsPerSample < 16 { precision = min(precision, bitsPerSample / 2 + 3) }
        return min(max(precision, 5), 15)
    }
}
