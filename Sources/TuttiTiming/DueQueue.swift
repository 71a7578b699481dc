/// A bounded queue of timestamped chunks for one slow consumer: chunks that can no longer be
/// played in time are dropped from the front, for this consumer alone.
///
/// A chunk stamped `t` is useful until server time `t + horizon` (the playout buffer): after
/// that every speaker would discard it. Pure; `now` is a parameter.
public struct DueQueue<Payload>: Sendable where Payload: Sendable {
    public struct Entry: Sendable {
        public var timestamp: Nanos
        public var payload: Payload
    }

    public let horizon: Nanos
    public private(set) var entries: [Entry] = []
    private var head = 0
    /// Chunks dropped because they became too old before they could be sent.
    public private(set) var dropped = 0

    public init(horizon: Nanos) { self.horizon = horizon }

    public var isEmpty: Bool { head == entries.count }
    public var count: Int { entries.count - head }

    /// Appends a chunk, then drops whatever has expired at `now`.
    public mutating func push(timestamp: Nanos, payload: Payload, now: Nanos) {
        entries.append(Entry(timestamp: timestamp, payload: payload))
        expire(now: now)
    }

    /// Removes and returns the oldest chunk that is still playable at `now`.
    public mutating func pop(now: Nanos) -> Entry? {
        expire(now: now)
        guard head < entries.count else { return nil }
        let entry = entries[head]
        head += 1
        compact()
        return entry
    }

    /// Forgets everything (e.g. when the speaker switches streams).
    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        head = 0
    }

    private mutating func expire(now: Nanos) {
        while head < entries.count, entries[head].timestamp + horizon < now {
            head += 1
            dropped += 1
        }
        compact()
    }

    private mutating func compact() {
        if head > 64, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
