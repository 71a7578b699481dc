import TuttiTiming

/// Says when a speaker sends its next Time request, and which replies still count.
///
/// States (chosen afresh at every ``poll(now:quality:isLocked:)`` from the estimator's figures):
/// *burst* while the estimator is not locked, *settling* while locked but the offset's standard
/// error is above ``Configuration/fineStandardError``, *steady* afterwards, each with its own
/// interval. By default all three are 10 ms, far faster than Snapcast's 1 s, because under
/// Wi-Fi-like jitter the exchanges are the only information there is: the estimator's error
/// shrinks like 1/n with the exchanges in its window. Faster does not help: the requests share
/// one TCP connection, so a request sent while the previous one is still delayed waits behind
/// it, and at 5 ms mean jitter the share of requests that travel unblocked falls faster than
/// their number grows (about 85 usable a second at 10 ms, no more at 5 ms, fewer at 2–3 ms).
/// Measured in the simulation (4 speakers, ±100 ppm, 5 ms mean jitter each way, TCP order, one
/// hour): 10 ms gives an inter-speaker p99 of 11–14 µs, 50 ms 28–32 µs. 100 messages of ~34
/// bytes a second each way cost little next to 1.5 Mbit/s of audio. A request unanswered after
/// ``Configuration/lostAfter`` is counted lost and its id forgotten, so a late reply is ignored
/// (it would be inflated anyway). When no reply has come for ``Configuration/staleAfter`` the
/// schedule falls back to burst pacing until one does (the network or server is gone;
/// reconnecting is the adapter's job).
///
/// Runs on the network side; pure, every instant is a parameter (local clock).
public struct TimeSyncSchedule: Sendable {
    /// Intervals and timeouts.
    public struct Configuration: Hashable, Sendable {
        /// Interval while not locked.
        public var burstInterval: Nanos = 10 * .nanosPerMillisecond
        /// Interval while locked but not yet fine.
        public var settleInterval: Nanos = 10 * .nanosPerMillisecond
        /// Interval once fine.
        public var steadyInterval: Nanos = 10 * .nanosPerMillisecond
        /// Offset standard error at or below which the cadence becomes steady.
        public var fineStandardError: Nanos = 10_000
        /// A request older than this is lost.
        public var lostAfter: Nanos = 1 * .nanosPerSecond
        /// With no reply for this long, pacing falls back to the burst interval.
        public var staleAfter: Nanos = 5 * .nanosPerSecond
        /// At most this many requests in flight; further sends wait (a dead link does not pile up).
        public var maximumInFlight: Int = 32
        /// Creates the default configuration.
        public init() {}

        /// For Time messages that travel as datagrams of their own (Tutti's time channel):
        /// every 2 ms until the estimate is fine, every 5 ms afterwards. Nothing waits behind an
        /// earlier request there, so asking faster pays (docs/benchmarks.md; in the simulation,
        /// six seeds: power save's skew p99 93 → 11 µs, and a joiner within 100 µs after 0.2 s
        /// at the median seed, 0.2–0.7 s but for a noisy floor, where pacing the burst at 5 ms
        /// took 0.3–2.3 s and 1 ms gained nothing more).
        public static var datagrams: Configuration {
            var configuration = Configuration()
            configuration.burstInterval = 2 * .nanosPerMillisecond
            configuration.settleInterval = 2 * .nanosPerMillisecond
            configuration.steadyInterval = 5 * .nanosPerMillisecond
            // A 100 ms spike holds 50 requests at 2 ms.
            configuration.maximumInFlight = 64
            return configuration
        }
    }

    /// What the adapter should do now.
    public enum Action: Hashable, Sendable {
        /// Send a Time request with this message id now (its t1 is the `now` of this poll).
        case send(requestID: UInt16)
        /// Nothing to send before this local time; poll again then (or when a reply arrives).
        case wait(until: Nanos)
    }

    /// The pacing the schedule is in.
    public enum Phase: Hashable, Sendable { case burst, settling, steady }

    /// The configuration this schedule uses.
    public private(set) var configuration: Configuration
    /// Requests declared lost so far.
    public private(set) var lostCount = 0
    /// Requests sent so far.
    public private(set) var sentCount = 0
    /// The pacing chosen at the last poll.
    public private(set) var phase: Phase = .burst
    private var inFlight: [(id: UInt16, sentAt: Nanos)] = []
    private var nextID: UInt16 = 1
    private var lastSend: Nanos?
    private var lastReply: Nanos?

    /// Creates a schedule that will ask for a request at the first poll.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Decides whether to send now; expires lost requests first.
    ///
    /// - Parameters:
    ///   - now: the local clock.
    ///   - quality: the estimator's current figures (its offset standard error picks the phase).
    ///   - isLocked: the estimator's lock.
    public mutating func poll(now: Nanos, quality: ClockEstimator.Quality, isLocked: Bool) -> Action {
        // A clock that went back (set by hand, a virtual machine resumed): every time noted
        // before is in the future. Forget them rather than wait for the lost time to pass again;
        // requests in flight are lost (their replies would measure a negative round trip).
        // Only a step beyond a second counts: instants read on different threads may arrive
        // here a little out of order.
        if let lastSend, lastSend - now > .nanosPerSecond {
            lostCount += inFlight.count
            inFlight.removeAll()
            self.lastSend = nil
            lastReply = nil
        }
        let expired = inFlight.filter { now - $0.sentAt >= configuration.lostAfter }.count
        if expired > 0 {
            lostCount += expired
            inFlight.removeAll { now - $0.sentAt >= configuration.lostAfter }
        }
        let stale = lastReply.map { now - $0 >= configuration.staleAfter } ?? false
        if !isLocked || stale {
            phase = .burst
        } else if quality.offsetStandardError > configuration.fineStandardError {
            phase = .settling
        } else {
            phase = .steady
        }
        let interval = switch phase {
        case .burst: configuration.burstInterval
        case .settling: configuration.settleInterval
        case .steady: configuration.steadyInterval
        }
        if let lastSend, now - lastSend < interval {
            return .wait(until: lastSend + interval)
        }
        if inFlight.count >= configuration.maximumInFlight {
            let oldest = inFlight.map(\.sentAt).min() ?? now
            return .wait(until: oldest + configuration.lostAfter)
        }
        let id = nextID
        nextID = nextID == .max ? 1 : nextID + 1
        inFlight.append((id, now))
        lastSend = now
        sentCount += 1
        return .send(requestID: id)
    }

    /// Matches a reply to its request; returns the request's send time (t1), or nil for an
    /// unknown, duplicate or already-expired id (drop such a reply).
    public mutating func replyReceived(requestID: UInt16, now: Nanos) -> Nanos? {
        guard let index = inFlight.firstIndex(where: { $0.id == requestID }) else { return nil }
        let sentAt = inFlight.remove(at: index).sentAt
        lastReply = now
        return sentAt
    }

    /// Starts over with `configuration` (the requests move to another channel): requests in
    /// flight are forgotten, and ids go on from where they were, so a late reply on the old
    /// channel never matches a request on the new one.
    public mutating func switchChannel(to configuration: Configuration) {
        self.configuration = configuration
        reset()
    }

    /// Forgets requests in flight and starts over with a burst (after a reconnect).
    public mutating func reset() {
        inFlight.removeAll()
        lastSend = nil
        lastReply = nil
        phase = .burst
    }
}
