import TuttiTiming

/// Estimates the server clock's offset **and rate** relative to the local clock from Time
/// exchanges, with round-trip filtering. Pure: every instant comes in inside a ``TimeExchange``.
///
/// States: *empty* (no exchange accepted; ``mapping`` is nil) → *estimating* (a line through
/// the accepted exchanges exists but its ``Quality/offsetStandardError`` is above
/// ``Configuration/lockStandardError``) → *locked* (enough exchanges and a small enough error;
/// the latch stays set while exchanges keep agreeing). Several exchanges in a row that are
/// impossible under the current line (a one-way delay below zero by more than
/// ``Configuration/stepTolerance``) mean the server clock stepped or the server changed: the
/// estimator drops its history and starts over from the newest exchange (``Disposition/restarted``).
///
/// ## Why a minimum-delay envelope fit over a window, not a Kalman filter on midpoints
/// Network delay has a hard floor and a long one-sided tail (queueing, Wi-Fi retries, spikes).
/// The midpoint offset (c2s − s2c)/2 is off by half the *difference* of the two delays, so
/// averaging midpoints (a Kalman filter or a least-squares line) converges like σ/√N with σ of
/// the order of the jitter. Each direction's floor, by contrast, is found by the lowest samples
/// of that direction alone, and the error of a minimum of N exponential delays is m/N, not m/√N;
/// an exchange that was slow one way still contributes its fast other way. So the estimator
/// keeps the accepted exchanges of a time window and fits the widest slab between the c2s
/// points (above the line offset + floor) and the −s2c points (below offset − floor), with a
/// common slope: the rate. That is a weighted regression in which only the envelope points
/// carry weight. Every other message the server stamps with its send time (each audio chunk)
/// adds a −s2c point for free (``addOneWay(serverSent:clientReceived:)``). The slope is the
/// most probable one under a ±100 ppm prior (see ``EnvelopeWindow/fit``), which keeps the first
/// second's estimate from swinging by hundreds of ppm.
///
/// The window (default 120 s) trades noise against how fast a changing rate is followed: a
/// rate drifting by r per second biases the estimate by about r·W²/16. A crystal's rate wanders
/// with temperature; at 0.5 ppm over 40 minutes the simulation measured an inter-speaker p99 of
/// 20–27 µs with a 300 s window and 10–13 µs with 120 s (60 s: 17–23 µs, the noise wins).
/// With 5 ms mean jitter each way and 100 exchanges a second, the simulation measures |error|
/// p50 ~1.5 µs, p99 ~7–28 µs after the first minutes; a midpoint average would need hours of
/// exchanges for that. ``Quality/offsetStandardError`` models only the floors' error (m/n),
/// not the slope's, and reads 2–5× optimistic.
///
/// A network whose floor rises for good (a roam to another access point, a route that changed)
/// would leave every new point above the slab, outside the fit, and the line extrapolated with
/// whatever rate error it had at that moment (2.4 ppm twelve seconds after connecting: 100 µs
/// off forty seconds later). When the fastest of the last 2 s of exchanges all lie more than
/// 1 ms above the slab one way or both, the older points are moved by the rise of each way
/// (``floorRises`` counts it), so the fit goes on with all it knew of the rate. A rise of one
/// way only cannot be told from a clock offset change by any two-way method; moving the points
/// takes the new path as symmetric at once, which the window would otherwise do in two minutes.
///
/// The round-trip filter (``Rejection/roundTripInflated(excess:limit:)``) throws away
/// exchanges whose round trip exceeds the window's minimum by more than
/// ``Configuration/inflationFactor`` × the typical excess (and at least
/// ``Configuration/inflationFloor``): 100 ms spikes and retries never reach the fit.
public struct ClockEstimator: Sendable {
    /// Tuning of a ``ClockEstimator``; the defaults suit Wi-Fi with a 1 ms to 10 ms jitter.
    public struct Configuration: Hashable, Sendable {
        /// Points older than this behind the newest leave the fit, in batches (the fit spans 1 to
        /// 1.25 times this).
        public var window: Nanos = 120 * .nanosPerSecond
        /// At most this many exchanges are kept (four times as many one-way samples); the
        /// oldest go first.
        public var maximumSamples: Int = 16384
        /// Standard error of the offset at or below which the estimator locks. Generous on
        /// purpose: a speaker that starts 1 ms off is pulled in by resampling (inaudibly, at up
        /// to 1 ms per second) while the estimate sharpens, instead of staying silent for the
        /// second or two a tight figure takes under 5 ms of jitter.
        public var lockStandardError: Nanos = 1 * .nanosPerMillisecond
        /// Accepted exchanges needed before locking.
        public var minimumSamplesForLock: Int = 20
        /// An exchange is inflated when its round trip exceeds the window minimum by more than
        /// this many times the typical (exponentially averaged) excess …
        public var inflationFactor: Double = 4
        /// … and by more than this.
        public var inflationFloor: Nanos = 2 * .nanosPerMillisecond
        /// Largest |rate − 1| searched; a real crystal is within ±100 ppm.
        public var maximumRateDeviation: Double = 1e-3
        /// Standard deviation of the prior on rate − 1 (centred on 0): what is believed of two
        /// clocks before any exchange. It matters for the first seconds only (see the type's
        /// documentation); a clock further off is still found, just more slowly.
        public var ratePrior: Double = 100e-6
        /// How far below zero an implied one-way delay may be before the exchange is inconsistent.
        public var stepTolerance: Nanos = 1 * .nanosPerMillisecond
        /// Consecutive inconsistent exchanges that trigger a restart.
        public var stepConfirmations: Int = 3
        /// When the fastest exchange of the last ``floorRiseSpan`` (at least
        /// ``floorRiseExchanges`` of them, filtered or not) lies above the fit's slab by more
        /// than this one way, the network's floor rose (a roam): the older points are moved up
        /// to the new floor (see ``ClockEstimator/add(_:)``). Under 5 ms mean jitter, 200
        /// exchanges that all miss a 1 ms band by chance happen with a probability of ~1e-13.
        public var floorRiseThreshold: Nanos = 1 * .nanosPerMillisecond
        public var floorRiseSpan: Nanos = 2 * .nanosPerSecond
        public var floorRiseExchanges: Int = 200

        /// Creates the default configuration.
        public init() {}
    }

    /// What ``ClockEstimator/add(_:)`` did with an exchange.
    public enum Disposition: Hashable, Sendable {
        /// Joined the fit.
        case accepted
        /// Confirmed a clock step: history dropped, the fit restarted from this exchange.
        case restarted
        /// Left out of the fit.
        case rejected(Rejection)
    }

    /// Why an exchange was left out.
    public enum Rejection: Hashable, Sendable {
        /// Time ran backwards on one side or the round trip was negative.
        case malformed
        /// The round trip exceeded the recent minimum by `excess`, more than `limit`.
        case roundTripInflated(excess: Nanos, limit: Nanos)
        /// Impossible under the locked line by `deviation` (a negative one-way delay); a few
        /// exchanges in a row restart the estimator.
        case inconsistent(deviation: Nanos)
        /// A one-way sample with no exchange in the window to relate it to, or malformed.
        case unanchored
    }

    /// How good the current estimate is.
    public struct Quality: Hashable, Sendable {
        /// Estimated standard error of the offset at the newest exchange, in nanoseconds
        /// (`Nanos.max` while empty). A model figure from the spread of the delays, not a truth.
        public var offsetStandardError: Nanos
        /// Estimated standard error of the rate (dimensionless; 1e-6 is 1 ppm).
        public var rateStandardError: Double
        /// Exchanges in the fit.
        public var sampleCount: Int
        /// Local time covered by the fit, oldest to newest midpoint.
        public var span: Nanos
        /// Smallest network round trip in the window.
        public var minimumRoundTrip: Nanos
        /// Estimated smallest one-way delay (half the slab's width).
        public var minimumOneWayDelay: Nanos
        /// Exchanges accepted / rejected since creation (restarts do not clear them).
        public var accepted: Int
        public var rejected: Int
        /// One-way samples (``ClockEstimator/addOneWay(serverSent:clientReceived:)``) accepted
        /// since creation.
        public var oneWayAccepted: Int
    }

    struct Fit: Sendable {
        var xReference: Nanos
        var offsetAtReference: Double  // server − local at xReference
        var slope: Double  // rate − 1
        var halfGap: Double
        var standardError: Double
        var rateStandardError: Double

        /// The line (server − local) at local time `x`.
        func offset(at x: Nanos) -> Double { offsetAtReference + Double(x - xReference) * slope }
    }

    /// The configuration this estimator was created with.
    public let configuration: Configuration
    var window = EnvelopeWindow()
    var fit: Fit?
    var typicalExcess: Double = 0
    var inconsistentRun = 0
    var acceptedCount = 0
    var rejectedCount = 0
    var oneWayCount = 0
    var refitsSinceSearch = 0
    var lockLatched = false
    var recent = RecentResiduals()
    /// Rises of the network's floor taken in so far, and the last one (each way, ns).
    public private(set) var floorRises = 0
    public private(set) var lastFloorRise: Nanos = 0

    /// Creates an empty estimator.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Feeds one completed exchange and says whether it joined the fit.
    ///
    /// Exchanges may arrive out of order (overlapping bursts, replies overtaking each other);
    /// they are kept sorted by local time. Malformed exchanges never trap. Amortized O(1) per
    /// call in order; one out of order costs O(window) to insert, and a rebuild of the hulls
    /// only when it is a new extreme.
    public mutating func add(_ exchange: TimeExchange) -> Disposition {
        guard exchange.isWellFormed else {
            rejectedCount += 1
            return .rejected(.malformed)
        }
        noteResiduals(exchange)
        // Round-trip filter against the window's minimum.
        let minimum = min(window.minimumRoundTrip, exchange.roundTrip)
        let excess = exchange.roundTrip - minimum
        let limit = max(Double(configuration.inflationFloor), configuration.inflationFactor * typicalExcess)
        typicalExcess += 0.1 * (min(Double(excess), 3 * limit) - typicalExcess)
        if Double(excess) > limit {
            rejectedCount += 1
            return .rejected(.roundTripInflated(excess: excess, limit: Nanos(limit)))
        }

        // Step detection against the locked line.
        if lockLatched, let fit {
            let predicted = fit.offset(at: exchange.localMidpoint)
            let upDelay = Double(exchange.clientToServer) - predicted
            let downDelay = Double(exchange.serverToClient) + predicted
            let deviation = min(upDelay, downDelay)
            if deviation < -Double(configuration.stepTolerance) {
                inconsistentRun += 1
                if inconsistentRun < configuration.stepConfirmations {
                    rejectedCount += 1
                    return .rejected(.inconsistent(deviation: Nanos(deviation)))
                }
                restart()
                window.insert(exchange)
                acceptedCount += 1
                refit(search: true)
                return .restarted
            }
        }
        inconsistentRun = 0
        let moves = cutsIntoSlab(up: (exchange.clientSent, exchange.clientToServer))
            || cutsIntoSlab(down: (exchange.clientReceived, -exchange.serverToClient))
        window.insert(exchange)
        acceptedCount += 1
        let trimmed = window.trim(window: configuration.window, maximum: configuration.maximumSamples)
        refit(search: moves || trimmed)
        if !lockLatched, window.count >= configuration.minimumSamplesForLock,
            let fit, fit.standardError <= Double(configuration.lockStandardError)
        {
            lockLatched = true
        }
        return .accepted
    }

    /// Feeds the arrival of any other message the server stamped with its send time (an audio
    /// chunk's `sent`): one more sample of the server-to-client delay's floor, for free.
    ///
    /// Only an upper bound of the true delay is needed — a server that stamps before writing, a
    /// message queued behind others, a late read all only make it larger, and a larger one never
    /// touches the envelope — so it needs no round-trip filter. Rejected while no exchange is
    /// in the window (nothing to anchor it), when malformed (negative times), and when it is
    /// impossible whatever the offset — above the envelope of the client-to-server points by
    /// more than ``Configuration/stepTolerance``, which also keeps out a server whose stamps are
    /// not send times (it does not count towards a restart: only exchanges do).
    public mutating func addOneWay(serverSent: Nanos, clientReceived: Nanos) -> Disposition {
        guard window.count > 0, serverSent >= 0, clientReceived >= 0, let newest = window.newest,
            clientReceived >= newest - configuration.window
        else { return .rejected(.unanchored) }
        if let fit {
            // A down point can never lie above the up envelope, whatever the offset: judged
            // against the slab's top rather than its middle, so that a young line's error does
            // not throw away the fastest (most telling) samples.
            let top = fit.offset(at: clientReceived) + fit.halfGap
            let margin = Double(clientReceived - serverSent) + top
            if margin < -Double(configuration.stepTolerance) { return .rejected(.inconsistent(deviation: Nanos(margin))) }
        }
        let moves = cutsIntoSlab(down: (clientReceived, serverSent - clientReceived))
        window.insertDown(serverSent: serverSent, clientReceived: clientReceived)
        oneWayCount += 1
        let trimmed = window.trim(window: configuration.window, maximum: configuration.maximumSamples)
        refit(search: moves || trimmed)
        return .accepted
    }

    /// Forgets everything (for a reconnect to a possibly different server); counters stay.
    public mutating func reset() {
        restart()
        typicalExcess = 0
    }

    /// True once the estimate has been good enough to play by (see the type's states).
    public var isLocked: Bool { lockLatched }

    /// The current line as a value for another thread, or nil while empty.
    public var mapping: ClockMapping? {
        guard let fit else { return nil }
        return ClockMapping(
            localReference: fit.xReference,
            serverReference: fit.xReference &+ Nanos(fit.offsetAtReference.rounded()),
            rate: 1 + fit.slope)
    }

    /// Server time at local time `local`, or nil before the first accepted exchange.
    public func serverTime(atLocal local: Nanos) -> Nanos? { mapping?.serverTime(atLocal: local) }

    /// Local time at server time `server`, or nil before the first accepted exchange.
    public func localTime(atServer server: Nanos) -> Nanos? { mapping?.localTime(atServer: server) }

    /// Server ticks per local tick (1 + ppm/1e6); exactly 1 while empty or after one exchange.
    public var rate: Double { 1 + (fit?.slope ?? 0) }

    /// How good the estimate is; see ``Quality``.
    public var quality: Quality {
        Quality(
            offsetStandardError: fit.map { Nanos($0.standardError.rounded()) } ?? .max,
            rateStandardError: fit?.rateStandardError ?? .infinity,
            sampleCount: window.count,
            span: window.span,
            minimumRoundTrip: window.count == 0 ? 0 : window.minimumRoundTrip,
            minimumOneWayDelay: Nanos((fit?.halfGap ?? 0).rounded()),
            accepted: acceptedCount, rejected: rejectedCount, oneWayAccepted: oneWayCount)
    }

    // MARK: - Window

    private mutating func restart() {
        recent = RecentResiduals()
        window.removeAll()
        fit = nil
        lockLatched = false
        inconsistentRun = 0
    }

    /// Notes how far the exchange lies above the slab each way (before any filter) and, when
    /// the recent ones all lie well above it, takes in the network's new floor.
    private mutating func noteResiduals(_ exchange: TimeExchange) {
        guard lockLatched, let fit else { return }
        let up = Double(exchange.clientToServer) - (fit.offset(at: exchange.clientSent) + fit.halfGap)
        let down = (fit.offset(at: exchange.clientReceived) - fit.halfGap) + Double(exchange.serverToClient)
        recent.add(x: exchange.clientReceived, up: up, down: down, span: configuration.floorRiseSpan)
        guard let rise = recent.rise(span: configuration.floorRiseSpan, exchanges: configuration.floorRiseExchanges),
              min(rise.up, rise.down) > Double(configuration.floorRiseThreshold), let oldest = window.oldest, oldest < rise.since
        else { return }
        // Both ways by the rise they share: the slab's middle — the offset — stays where it was.
        let shared = Nanos(min(rise.up, rise.down))
        window.shiftFloor(before: rise.since, up: shared, down: shared)
        recent = RecentResiduals()
        floorRises += 1
        lastFloorRise = shared
        refit(search: true)
    }

    /// Refits the line. The slope search is needed only when a new point lies inside the
    /// current slab (it narrows the slab at the current slope, and may move the optimum), when
    /// old points left, and now and then for the prior's weakening pull; a point outside the slab
    /// leaves every slab at least as narrow as before and the optimum where it was, so the
    /// figures are just re-evaluated at the current slope (O(hull) instead of a search).
    private mutating func refit(search: Bool) {
        if search || fit == nil || refitsSinceSearch >= 32 {
            fit = window.fit(
                priorCenter: 0, prior: configuration.ratePrior, previousSlope: fit?.slope ?? 0,
                priorBand: fit.map { max(20 * $0.rateStandardError, 2e-6) }, maximumSlope: configuration.maximumRateDeviation)
            refitsSinceSearch = 0
        } else if let slope = fit?.slope {
            fit = window.evaluate(slope: slope, maximumSlope: configuration.maximumRateDeviation)
            refitsSinceSearch += 1
        }
    }

    /// True when an up point (x, c2s) lies below the slab's top, or a down point (x, −s2c) above
    /// its bottom, at the current slope.
    private func cutsIntoSlab(up: (x: Nanos, y: Nanos)? = nil, down: (x: Nanos, y: Nanos)? = nil) -> Bool {
        guard let fit else { return true }
        if let up, Double(up.y) < fit.offset(at: up.x) + fit.halfGap { return true }
        if let down, Double(down.y) > fit.offset(at: down.x) - fit.halfGap { return true }
        return false
    }
}

/// The smallest distance above the slab each way of the recent exchanges, in buckets of a
/// quarter of a second, for ``ClockEstimator``'s floor-rise detection.
struct RecentResiduals: Sendable {
    struct Bucket: Sendable {
        var start: Nanos
        var up: Double
        var down: Double
        var count: Int
    }

    private(set) var buckets: [Bucket] = []
    static let bucketLength: Nanos = 250 * .nanosPerMillisecond

    mutating func add(x: Nanos, up: Double, down: Double, span: Nanos) {
        if var last = buckets.last, x >= last.start, x - last.start < Self.bucketLength {
            last.up = min(last.up, up)
            last.down = min(last.down, down)
            last.count += 1
            buckets[buckets.count - 1] = last
        } else {
            buckets.append(Bucket(start: x, up: up, down: down, count: 1))
        }
        // Keep the buckets that cover `span` behind the newest (and one more).
        while buckets.count > 1, x - buckets[1].start >= span { buckets.removeFirst() }
    }

    /// The least distance each way over the buckets, when they cover `span` with at least
    /// `exchanges` exchanges; `since` is where they start.
    func rise(span: Nanos, exchanges: Int) -> (since: Nanos, up: Double, down: Double)? {
        guard let first = buckets.first, let last = buckets.last, last.start + Self.bucketLength - first.start >= span,
              buckets.reduce(0, { $0 + $1.count }) >= exchanges
        else { return nil }
        return buckets.reduce((first.start, Double.infinity, Double.infinity)) { ($0.0, min($0.1, $1.up), min($0.2, $1.down)) }
    }
}
