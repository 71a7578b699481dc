import TuttiTiming

/// The widest-slab fit behind ``ClockEstimator`` (see its type documentation for why).
///
/// In the plane (local time x, nanoseconds y), every exchange gives an *up* point
/// (t1, c2s) lying at offset(x) + floor + up-jitter, and a *down* point (t4, −s2c) lying at
/// offset(x) − floor − down-jitter; every other message from the server that carries its send
/// time (an audio chunk) gives one more down point. The offset line is the middle of the widest
/// slab with slope s that has all up points above it and all down points below it. Only the
/// lower convex hull of the up points and the upper convex hull of the down points can touch
/// such a slab, so each side keeps its points in x order with that hull (amortized O(1) per
/// appended point; rebuilt in O(n) when old points leave in a batch, or one arrives out of
/// order) and running sums for the spread; a fit costs O(h) per evaluation of a concave
/// objective maximized by golden-section search over the slope.
///
/// An up point sits at the request's send time t1 and a down point at its arrival t4, not both
/// at the midpoint: that keeps each side in arrival order (chunks arrive between a request and
/// its reply), and moves a point by at most rate error × one-way delay (well under 1 µs), the
/// same for the floor points of both sides.
struct EnvelopeWindow: Sendable {
    struct Point: Sendable {
        var x: Nanos
        var y: Nanos
        var roundTrip: Nanos  // of the exchange (up side); 0 on the down side
    }

    struct HullPoint: Sendable {
        var x: Double
        var y: Double
    }

    /// One direction: its points, their hull (lower for up, upper for down) and sums.
    ///
    /// The points are kept in arrival order and sorted by x only when the hull is rebuilt or old
    /// points leave (`isSorted`). A point that arrives out of order (replies overtaking each
    /// other, as datagrams do) costs O(log h) when it lies inside the hull's side, as most do;
    /// one that does not joins `outliers`, which the intercept scans beside the hull (the extreme
    /// over their union is the extreme over all points), until 64 of them make a rebuild pay.
    struct Side: Sendable {
        let lower: Bool
        private(set) var points: [Point] = []
        private(set) var hull: [HullPoint] = []
        private(set) var outliers: [HullPoint] = []
        private(set) var sumX: Int64 = 0  // Σ (x − x0)
        private(set) var sumY: Int64 = 0  // Σ (y − y0)
        private(set) var firstX: Nanos?
        private(set) var lastX: Nanos?
        private var isSorted = true

        init(lower: Bool) { self.lower = lower }

        var count: Int { points.count }

        /// The point with the smallest x (sorts first if needed).
        mutating func first() -> Point? {
            sortIfNeeded()
            return points.first
        }

        mutating func removeAll() {
            points.removeAll(keepingCapacity: true)
            firstX = nil
            lastX = nil
            isSorted = true
            clearDerived()
        }

        private mutating func clearDerived() {
            hull.removeAll(keepingCapacity: true)
            outliers.removeAll(keepingCapacity: true)
            sumX = 0
            sumY = 0
        }

        private mutating func sortIfNeeded() {
            guard !isSorted else { return }
            points.sort { $0.x < $1.x }
            isSorted = true
        }

        /// Adds a point; returns false when the hull must be rebuilt (the caller does): too many
        /// outliers gathered.
        mutating func insert(_ point: Point, origin: (x: Nanos, y: Nanos)) -> Bool {
            points.append(point)
            firstX = min(firstX ?? point.x, point.x)
            if let last = lastX, point.x < last {
                isSorted = false
                sumX += point.x - origin.x
                sumY += point.y - origin.y
                let p = HullPoint(x: Double(point.x - origin.x), y: Double(point.y - origin.y))
                if !isInside(p) { outliers.append(p) }
                return outliers.count <= 64
            }
            lastX = point.x
            accumulate(point, origin: origin)
            return true
        }

        /// True when `p` lies strictly above the lower hull (below the upper one) within its x
        /// range: adding it would not change the hull.
        private func isInside(_ p: HullPoint) -> Bool {
            guard let first = hull.first, let last = hull.last, hull.count >= 2, p.x >= first.x, p.x <= last.x else { return false }
            var low = 0
            var high = hull.count - 1
            while high - low > 1 {
                let middle = (low + high) / 2
                if hull[middle].x <= p.x { low = middle } else { high = middle }
            }
            let a = hull[low], b = hull[high]
            guard b.x > a.x else { return false }
            let edge = a.y + (b.y - a.y) * (p.x - a.x) / (b.x - a.x)
            return lower ? p.y > edge : p.y < edge
        }

        mutating func dropOlder(than limit: Nanos, keeping maximum: Int) {
            sortIfNeeded()
            var drop = 0
            while drop < points.count, points[drop].x < limit || points.count - drop > maximum { drop += 1 }
            points.removeFirst(drop)
            firstX = points.first?.x
            lastX = points.last?.x
        }

        /// Moves every point older than `limit` by `y` (and its round trip by `roundTrip`).
        mutating func shift(before limit: Nanos, y: Nanos, roundTrip: Nanos) {
            for index in points.indices where points[index].x < limit {
                points[index].y += y
                points[index].roundTrip += roundTrip
            }
        }

        mutating func rebuild(origin: (x: Nanos, y: Nanos)) {
            sortIfNeeded()
            clearDerived()
            for point in points { accumulate(point, origin: origin) }
        }

        private mutating func accumulate(_ point: Point, origin: (x: Nanos, y: Nanos)) {
            sumX += point.x - origin.x
            sumY += point.y - origin.y
            let p = HullPoint(x: Double(point.x - origin.x), y: Double(point.y - origin.y))
            // Andrew's monotone chain step: keeps the lower (or upper) convex hull.
            while hull.count >= 2 {
                let o = hull[hull.count - 2]
                let a = hull[hull.count - 1]
                let cross = (a.x - o.x) * (p.y - o.y) - (a.y - o.y) * (p.x - o.x)
                if lower ? cross <= 0 : cross >= 0 { hull.removeLast() } else { break }
            }
            hull.append(p)
        }

        /// The extreme intercept along slope s: lowest up point, or highest down point.
        func intercept(_ s: Double) -> Double {
            if lower {
                var best = Double.infinity
                for p in hull { best = min(best, p.y - s * p.x) }
                for p in outliers { best = min(best, p.y - s * p.x) }
                return best
            }
            var best = -Double.infinity
            for p in hull { best = max(best, p.y - s * p.x) }
            for p in outliers { best = max(best, p.y - s * p.x) }
            return best
        }

        /// Mean distance of the points from the line of slope s through `intercept`.
        func meanDistance(slope s: Double, intercept: Double) -> Double {
            guard !points.isEmpty else { return 0 }
            let n = Double(points.count)
            return abs(Double(sumY) / n - s * Double(sumX) / n - intercept)
        }
    }

    private(set) var up = Side(lower: true)
    private(set) var down = Side(lower: false)
    private var origin: (x: Nanos, y: Nanos) = (0, 0)
    private(set) var minimumRoundTrip: Nanos = .max
    private var sumRoundTrip: Int64 = 0

    /// Exchanges in the window.
    var count: Int { up.count }
    /// Down points in the window (exchanges' and one-way).
    var downCount: Int { down.count }
    var oldest: Nanos? {
        switch (up.firstX, down.firstX) {
        case let (a?, b?): min(a, b)
        case let (a, b): a ?? b
        }
    }
    var newest: Nanos? {
        switch (up.lastX, down.lastX) {
        case let (a?, b?): max(a, b)
        case let (a, b): a ?? b
        }
    }
    var span: Nanos { (newest ?? 0) - (oldest ?? 0) }

    mutating func removeAll() {
        up.removeAll()
        down.removeAll()
        minimumRoundTrip = .max
        sumRoundTrip = 0
    }

    /// Adds an exchange: its up point at t1 and down point at t4.
    mutating func insert(_ exchange: TimeExchange) {
        if up.count == 0 && down.count == 0 {
            origin = (exchange.clientSent, exchange.midpointOffset)
        }
        minimumRoundTrip = min(minimumRoundTrip, exchange.roundTrip)
        sumRoundTrip += exchange.roundTrip
        var inOrder = up.insert(
            Point(x: exchange.clientSent, y: exchange.clientToServer, roundTrip: exchange.roundTrip), origin: origin)
        inOrder = down.insert(Point(x: exchange.clientReceived, y: -exchange.serverToClient, roundTrip: 0), origin: origin) && inOrder
        if !inOrder { rebuild() }
    }

    /// Adds a one-way down point (a message stamped by the server when sent).
    mutating func insertDown(serverSent: Nanos, clientReceived: Nanos) {
        if !down.insert(Point(x: clientReceived, y: serverSent - clientReceived, roundTrip: 0), origin: origin) { rebuild() }
    }

    /// Drops points older than `window` behind the newest, and beyond `maximum` exchanges (down
    /// points beyond four times that), in batches of a quarter, so the O(n) rebuild is amortized
    /// (the window holds between 1 and 1.25 times `window`).
    /// Returns true when points left.
    @discardableResult
    mutating func trim(window: Nanos, maximum: Int) -> Bool {
        guard let newest, let oldest else { return false }
        let tooOld = newest - oldest > window + window / 4
        let tooMany = up.count > maximum + maximum / 4 || down.count > 4 * (maximum + maximum / 4)
        guard tooOld || tooMany else { return false }
        up.dropOlder(than: newest - window, keeping: maximum)
        down.dropOlder(than: newest - window, keeping: 4 * maximum)
        rebuild()
        return true
    }

    /// The network's floor rose by `up` one way and `down` the other at `limit` (a roam to
    /// another access point): the points before it are moved as if they had crossed today's
    /// path, so that the window keeps what they say about the rate instead of holding the fit
    /// to a floor that is gone.
    mutating func shiftFloor(before limit: Nanos, up upRise: Nanos, down downRise: Nanos) {
        up.shift(before: limit, y: upRise, roundTrip: upRise + downRise)
        down.shift(before: limit, y: -downRise, roundTrip: 0)
        rebuild()
    }

    private mutating func rebuild() {
        if let oldest { origin = (oldest, up.first().map { $0.y - $0.roundTrip / 2 } ?? down.first()?.y ?? 0) }
        up.rebuild(origin: origin)
        down.rebuild(origin: origin)
        minimumRoundTrip = up.points.map(\.roundTrip).min() ?? .max
        sumRoundTrip = up.points.reduce(0) { $0 + $1.roundTrip }
    }

    /// Fits the slab; nil without an exchange.
    ///
    /// The slope maximizes the posterior of the rate: with one-way delays of exponential excess
    /// (mean m) over a common floor, the log-likelihood of a slope is (n/m)·gap(s) plus terms
    /// that do not depend on it, where gap(s) is the slab's width; a Gaussian prior of standard
    /// deviation `prior` around `priorCenter` (a crystal is within ±100 ppm) adds
    /// −(s − centre)²/(2·prior²). Over a long window the data dominate; in the first seconds
    /// after connecting, when a few hundred milliseconds of exchanges say almost nothing about
    /// the rate, the prior keeps the slope near the centre instead of letting two lucky samples
    /// set it hundreds of ppm off, which would throw the offset at the window's newest end off
    /// by the same lever. `priorBand`, when given, is searched first.
    func fit(
        priorCenter: Double, prior: Double, previousSlope: Double, priorBand: Double?, maximumSlope: Double
    ) -> ClockEstimator.Fit? {
        guard up.count > 0, newest != nil else { return nil }
        let nUp = Double(up.count)
        let nDown = Double(down.count)
        let n = 2 * nUp * nDown / (nUp + nDown)  // the scarcer side limits the fit
        // Mean excess delay each way, from the round trips (their floor ≈ the window minimum).
        let meanExcess = max((Double(sumRoundTrip) / nUp - Double(minimumRoundTrip)) / 2, 10_000)
        let priorWeight = meanExcess / n / (2 * prior * prior)
        func objective(_ s: Double) -> Double {
            let pull = s - priorCenter
            return up.intercept(s) - down.intercept(s) - priorWeight * pull * pull
        }
        // Golden-section search, first within a band around the previous slope (20 of its
        // standard errors), then over the whole range if the optimum sits on the band's edge.
        func search(_ lower: Double, _ upper: Double) -> Double {
            let g = 0.618_033_988_749_895
            var low = lower
            var high = upper
            var a = high - g * (high - low)
            var b = low + g * (high - low)
            var fa = objective(a)
            var fb = objective(b)
            while high - low > 1e-13 {
                if fa < fb {
                    low = a
                    a = b
                    fa = fb
                    b = low + g * (high - low)
                    fb = objective(b)
                } else {
                    high = b
                    b = a
                    fb = fa
                    a = high - g * (high - low)
                    fa = objective(a)
                }
            }
            return (low + high) / 2
        }
        var slope: Double
        if let band = priorBand, band < maximumSlope {
            let lower = max(-maximumSlope, previousSlope - band)
            let upper = min(maximumSlope, previousSlope + band)
            slope = search(lower, upper)
            if slope - lower < 1e-12 || upper - slope < 1e-12 { slope = search(-maximumSlope, maximumSlope) }
        } else {
            slope = search(-maximumSlope, maximumSlope)
        }
        return evaluate(slope: slope, maximumSlope: maximumSlope)
    }

    /// The line, slab and error figures at a given slope; nil without an exchange.
    func evaluate(slope: Double, maximumSlope: Double) -> ClockEstimator.Fit? {
        guard up.count > 0, let newest else { return nil }
        let nUp = Double(up.count)
        let nDown = Double(down.count)
        let top = up.intercept(slope)
        let bottom = down.intercept(slope)
        // Spread of each side beyond its floor: with an exponential-like tail of mean m, the
        // extreme of n points lies about m/n beyond the true floor.
        let upError = up.meanDistance(slope: slope, intercept: top) / nUp
        let downError = down.meanDistance(slope: slope, intercept: bottom) / nDown
        let standardError = max((upError * upError + downError * downError).squareRoot(), 1_000)
        let span = Double(self.span)
        let xN = Double(newest - origin.x)
        return ClockEstimator.Fit(
            xReference: newest, offsetAtReference: Double(origin.y) + (top + bottom) / 2 + slope * xN, slope: slope,
            halfGap: (top - bottom) / 2, standardError: standardError,
            rateStandardError: span > 0 ? min(3.5 * standardError / span, 2 * maximumSlope) : 2 * maximumSlope)
    }
}
