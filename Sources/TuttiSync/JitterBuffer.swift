import TuttiTiming

/// Buffered audio keyed by server time, organised as *runs*: chunks whose timestamps continue
/// one another (within ``continuityTolerance``) form one run on one frame grid anchored at the
/// run's first timestamp; a chunk that starts later than its predecessor ended starts a new run
/// (a pause in the source). Frame `k` of a run plays at server time `anchor + k / rate`.
///
/// Used by ``PlayoutScheduler``; exposed for adapters that want its figures.
public struct JitterBuffer: Sendable {
    /// What ``add(_:notEndingBefore:)`` did with a chunk.
    public enum Disposition: Hashable, Sendable {
        /// Continued the newest run.
        case appended
        /// Started a new run (first chunk, or after a gap).
        case startedRun
        /// Dropped.
        case rejected(Rejection)
    }

    /// Why a chunk was dropped.
    public enum Rejection: Hashable, Sendable {
        /// It ended before the audio now due at the output: too late to play.
        case late
        /// It starts before the newest buffered audio ends (a repeat, or a clock step).
        case overlapping
        /// Accepting it would exceed the capacity.
        case full
        /// It has no frames.
        case empty
    }

    struct Stored: Sendable {
        var start: Int64  // first frame within the run
        var chunk: AudioChunk
        var end: Int64 { start + Int64(chunk.frameCount) }
    }

    struct Run: Sendable {
        var anchor: Nanos
        var chunks: [Stored]
        var end: Int64
    }

    /// Frames per second of the buffered audio.
    public let sampleRate: Int
    /// Interleaved channels.
    public let channels: Int
    /// Largest timestamp discrepancy still treated as continuous.
    public let continuityTolerance: Nanos
    /// Most frames held at once.
    public let capacity: Int
    private(set) var runs: [Run] = []
    /// Frames held.
    public private(set) var bufferedFrames = 0

    /// Creates an empty buffer.
    public init(sampleRate: Int, channels: Int, continuityTolerance: Nanos = 500_000, capacity: Int? = nil) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.continuityTolerance = continuityTolerance
        self.capacity = capacity ?? sampleRate * 10
    }

    /// Nanoseconds that `frames` frames last (fractional frames allowed).
    public func duration(frames: Double) -> Double { frames * 1e9 / Double(sampleRate) }

    /// Frames that `nanos` nanoseconds last.
    public func frames(nanos: Double) -> Double { nanos * Double(sampleRate) / 1e9 }

    /// Adds a chunk, unless it ends at or before `notEndingBefore` (server time), overlaps, or
    /// does not fit.
    public mutating func add(_ chunk: AudioChunk, notEndingBefore due: Nanos?) -> Disposition {
        guard chunk.frameCount > 0 else { return .rejected(.empty) }
        let end = chunk.serverTime + Nanos(duration(frames: Double(chunk.frameCount)))
        if let due, end <= due { return .rejected(.late) }
        guard bufferedFrames + chunk.frameCount <= capacity else { return .rejected(.full) }
        if var last = runs.last {
            let expected = last.anchor + Nanos(duration(frames: Double(last.end)).rounded())
            let drift = chunk.serverTime - expected
            if abs(drift) <= continuityTolerance {
                last.chunks.append(Stored(start: last.end, chunk: chunk))
                last.end += Int64(chunk.frameCount)
                runs[runs.count - 1] = last
                bufferedFrames += chunk.frameCount
                return .appended
            }
            if drift < 0 { return .rejected(.overlapping) }
        }
        runs.append(Run(anchor: chunk.serverTime, chunks: [Stored(start: 0, chunk: chunk)], end: Int64(chunk.frameCount)))
        bufferedFrames += chunk.frameCount
        return .startedRun
    }

    /// The anchor of the earliest run that still has audio after server time `time`, or nil.
    public func runAnchor(endingAfter time: Nanos) -> Nanos? {
        runs.first { $0.anchor + Nanos(duration(frames: Double($0.end))) > time }?.anchor
    }

    /// One past the last buffered frame of the run anchored at `anchor` (frames from the anchor),
    /// or nil when no such run is held any more.
    public func end(ofRunAnchoredAt anchor: Nanos) -> Int64? {
        runs.first { $0.anchor == anchor }?.end
    }

    /// True when a run after the one anchored at `anchor` is buffered.
    public func hasRun(after anchor: Nanos) -> Bool {
        runs.contains { $0.anchor > anchor }
    }

    /// Copies frames `range` of the grid anchored at `anchor` into `destination` (interleaved,
    /// `range.count × channels`), zeros where nothing is buffered. Runs on another grid are
    /// placed at the nearest whole frame. Returns how many frames came from buffered chunks.
    @discardableResult
    public func gather(anchor: Nanos, range: Range<Int64>, into destination: UnsafeMutableBufferPointer<Float>) -> Int {
        let count = range.count
        for i in 0..<(count * channels) { destination[i] = 0 }
        var covered = 0
        for run in runs {
            let shift = Int64(frames(nanos: Double(run.anchor - anchor)).rounded())
            guard run.end + shift > range.lowerBound, shift < range.upperBound else { continue }
            for stored in run.chunks {
                let lower = max(stored.start + shift, range.lowerBound)
                let upper = min(stored.end + shift, range.upperBound)
                guard lower < upper else { continue }
                covered += Int(upper - lower)
                let samples = stored.chunk.samples
                guard !samples.isEmpty else { continue }
                let from = Int(lower - shift - stored.start) * channels
                let to = Int(lower - range.lowerBound) * channels
                samples.withUnsafeBufferPointer { source in
                    for i in 0..<(Int(upper - lower) * channels) { destination[to + i] = source[from + i] }
                }
            }
        }
        return covered
    }

    /// Drops whole chunks that end at or before frame `frame` of the grid anchored at `anchor`,
    /// and runs left empty.
    public mutating func discard(anchor: Nanos, before frame: Int64) {
        for index in runs.indices {
            let shift = Int64(frames(nanos: Double(runs[index].anchor - anchor)).rounded())
            var drop = 0
            while drop < runs[index].chunks.count, runs[index].chunks[drop].end + shift <= frame {
                bufferedFrames -= runs[index].chunks[drop].chunk.frameCount
                drop += 1
            }
            if drop > 0 { runs[index].chunks.removeFirst(drop) }
        }
        runs.removeAll { $0.chunks.isEmpty }
    }

    /// Drops everything (a codec or stream change).
    public mutating func removeAll() {
        runs.removeAll()
        bufferedFrames = 0
    }
}
