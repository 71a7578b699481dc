/// When each frame of one player's output was emitted (left its DAC), in harness nanoseconds,
/// recovered from the arrival stamps of the harness's reads of the player's pipe.
///
/// **Why a fit.** A player writes a block when its first frame is due (minus its lead); the
/// harness stamps each read on arrival. A stamp is never early, only late: by 10–100 µs
/// normally, by milliseconds when the harness thread was descheduled — and one write can come
/// back as several reads, or several writes as one read. So:
/// 1. reads are grouped into *write starts*: the first read, and every read arriving at least
///    `writeGap` after the previous one. Each gives a point (frame fₖ, arrival aₖ).
/// 2. In the plane x = fₖ/rate, y = aₖ − x, the true write times lie on a line whose slope is
///    the player's clock error against the harness clock (±100 ppm is 100 µs per second);
///    stamps scatter *above* it. The slope comes from a Theil–Sen fit through the low points of
///    half-second blocks (robust to spikes and to a few early points).
/// 3. The offset along the line is the *second-lowest* detrended residual within ±`window` of
///    each write start: the lower envelope, which ignores one early outlier per window — an
///    early point happens when a write split across reads has its tail arriving ≥ `writeGap`
///    late, so the tail looks like a write of its own that started mid-block. Such tails are
///    mostly caught before: a read right after one that filled the harness's buffer is never
///    a write start, and a point over a millisecond below its neighbours' median is dropped.
/// 4. A persistent jump of the lower envelope by more than `breakThreshold` (the player stalled,
///    restarted, or sped through a backlog) splits the capture into segments fitted apart.
///
/// Edge cases: a capture with no reads has no anchors and maps every frame to time 0 with the
/// nominal rate; a segment shorter than two blocks borrows the slope of the longest segment.
/// Times are `Double` nanoseconds relative to the `origin` given to ``fit(_:format:origin:options:)``.
public struct EmissionModel: Sendable {
    /// One write start after fitting: its first frame and the emission time of that frame.
    struct Anchor: Sendable {
        var frame: Double
        var time: Double
        var segment: Int
    }

    /// Knobs of the fit; the defaults suit 5–50 ms blocks and a harness on a busy machine.
    public struct Options: Sendable {
        /// A read arriving at least this long after the previous read starts a new write.
        public var writeGapNanoseconds: Double = 2_000_000
        /// Half-width of the lower-envelope window around each write start.
        public var envelopeHalfWidthNanoseconds: Double = 1_000_000_000
        /// A write start this far below the median of its half-second block is ignored.
        public var earlyOutlierNanoseconds: Double = 1_000_000
        /// A jump of the lower envelope larger than this starts a new segment.
        public var breakThresholdNanoseconds: Double = 2_000_000
        public init() {}
    }

    let anchors: [Anchor]
    /// Nanoseconds of harness time per output frame, per segment.
    let nanosecondsPerFrame: [Double]
    /// Nominal nanoseconds per frame (1e9 / sampleRate).
    let nominalNanosecondsPerFrame: Double
    /// Frames captured (whole frames only).
    public let frameCount: Int
    /// The player's output clock rate against the harness clock, in parts per million, from the
    /// longest segment: positive means it emits more frames per harness second than nominal.
    public let clockPPM: Double
    /// Write starts found (the points behind the fit).
    public var writeCount: Int { anchors.count }
    /// Segments the capture was split into (1 for a player that never stalled).
    public var segmentCount: Int { nanosecondsPerFrame.count }

    /// Emission time (ns since origin) of frame `frame` (fractional frames allowed); frames
    /// outside the capture are extrapolated at the nearest segment's rate.
    public func emissionTime(ofFrame frame: Double) -> Double {
        guard !anchors.isEmpty else { return frame * nominalNanosecondsPerFrame }
        let index = Self.lastIndex(in: anchors, atOrBelow: frame, by: \.frame)
        let a = anchors[index]
        if index + 1 < anchors.count, anchors[index + 1].segment == a.segment, frame >= a.frame {
            let b = anchors[index + 1]
            return a.time + (frame - a.frame) * (b.time - a.time) / (b.frame - a.frame)
        }
        return a.time + (frame - a.frame) * nanosecondsPerFrame[a.segment]
    }

    /// The (fractional) frame emitted at `time` (ns since origin). During a stall between
    /// segments, the answer is the first frame of the next segment.
    public func frame(emittedAt time: Double) -> Double {
        guard !anchors.isEmpty else { return time / nominalNanosecondsPerFrame }
        let index = Self.lastIndex(in: anchors, atOrBelow: time, by: \.time)
        let a = anchors[index]
        if index + 1 < anchors.count, time >= a.time {
            let b = anchors[index + 1]
            if b.segment == a.segment {
                return a.frame + (time - a.time) * (b.frame - a.frame) / (b.time - a.time)
            }
            return min(b.frame, a.frame + (time - a.time) / nanosecondsPerFrame[a.segment])
        }
        return a.frame + (time - a.time) / nanosecondsPerFrame[a.segment]
    }

    /// The index of the last element whose key is ≤ `value`, or 0 when none is.
    static func lastIndex(in anchors: [Anchor], atOrBelow value: Double, by key: KeyPath<Anchor, Double>) -> Int {
        var low = 0
        var high = anchors.count - 1
        guard anchors[0][keyPath: key] <= value else { return 0 }
        while low < high {
            let mid = (low + high + 1) / 2
            if anchors[mid][keyPath: key] <= value { low = mid } else { high = mid - 1 }
        }
        return low
    }

    init(anchors: [Anchor], nanosecondsPerFrame: [Double], nominal: Double, frameCount: Int, clockPPM: Double) {
        self.anchors = anchors
        self.nanosecondsPerFrame = nanosecondsPerFrame.isEmpty ? [nominal] : nanosecondsPerFrame
        self.nominalNanosecondsPerFrame = nominal
        self.frameCount = frameCount
        self.clockPPM = clockPPM
    }
}
