/// Paces a stream's reader by the source's real time and stamps chunks with a sample clock.
///
/// States:
/// - `idle`: no anchor; the source has not delivered yet, or it paused. The reader polls.
/// - `playing`: anchored. Chunk *n* carries timestamp `anchor + n·d` (d = exact chunk duration,
///   computed from frame counts, so timestamps never accumulate rounding) and is due to be read
///   at `anchor + (n+1)·d`, when its last sample has been captured.
///
/// Re-anchoring happens only when the source really paused: nothing arrived for `idleAfter`
/// past a deadline, or the source runs so far behind the sample clock (`maximumLag`) that its
/// chunks would reach speakers too late — a slow writer's clock, not a pause, but the stream
/// must stay playable. Pure: every instant is a parameter.
public struct ChunkPacer: Sendable {
    /// What the reader should do after telling the pacer what happened.
    public enum State: Equatable, Sendable {
        case idle
        case playing(anchor: Nanos, chunksEmitted: Int64)
    }

    public let framesPerChunk: Int
    public let sampleRate: Int
    /// How long past a deadline with no complete chunk before the source counts as paused.
    public let idleAfter: Nanos
    /// How far behind its deadline a chunk may be emitted before the clock re-anchors.
    public let maximumLag: Nanos
    public private(set) var state: State = .idle

    public init(framesPerChunk: Int, sampleRate: Int, idleAfter: Nanos = 200 * .nanosPerMillisecond, maximumLag: Nanos = 300 * .nanosPerMillisecond) {
        precondition(framesPerChunk > 0 && sampleRate > 0, "chunk and rate must be positive")
        self.framesPerChunk = framesPerChunk
        self.sampleRate = sampleRate
        self.idleAfter = idleAfter
        self.maximumLag = maximumLag
    }

    /// The server time of the first sample of chunk `index` after `anchor`.
    func time(ofChunk index: Int64, anchor: Nanos) -> Nanos {
        let frames = index * Int64(framesPerChunk)
        // Split to keep frames·1e9 from overflowing for streams that run for years.
        let seconds = frames / Int64(sampleRate)
        let rest = frames % Int64(sampleRate)
        return anchor + seconds * .nanosPerSecond + rest * .nanosPerSecond / Int64(sampleRate)
    }

    /// The exact duration of one chunk, rounded to nanoseconds.
    public var chunkDuration: Nanos { time(ofChunk: 1, anchor: 0) }

    /// When the next chunk is due to be read, or nil while idle (read as soon as data comes).
    public var nextDeadline: Nanos? {
        guard case .playing(let anchor, let emitted) = state else { return nil }
        return time(ofChunk: emitted + 1, anchor: anchor)
    }

    /// A whole chunk was read at `now`; returns its timestamp (server time of its first sample).
    ///
    /// From idle this anchors the clock so that the chunk ends at `now`. While playing, a chunk
    /// later than `maximumLag` past its deadline re-anchors the same way (the timestamps jump).
    public mutating func chunkRead(at now: Nanos) -> Nanos {
        switch state {
        case .playing(let anchor, let emitted):
            let deadline = time(ofChunk: emitted + 1, anchor: anchor)
            if now - deadline <= maximumLag {
                state = .playing(anchor: anchor, chunksEmitted: emitted + 1)
                return time(ofChunk: emitted, anchor: anchor)
            }
            fallthrough
        case .idle:
            let anchor = now - chunkDuration
            state = .playing(anchor: anchor, chunksEmitted: 1)
            return anchor
        }
    }

    /// Nothing (or too little) arrived by `now`; returns true when this makes the stream idle.
    public mutating func nothingRead(at now: Nanos) -> Bool {
        guard let deadline = nextDeadline else { return false }
        guard now - deadline >= idleAfter else { return false }
        state = .idle
        return true
    }
}
