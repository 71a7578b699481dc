import TuttiTiming

/// The widest-slab fit behind ``ClockEstimator`` (see its type documentation for why).
///
/// In the plane (local midpoint x, nanoseconds y), every exchange gives an *up* point
/// (x, c2s) lying at offset(x) + floor + up-jitter, and a *down* point (x, −s2c) lying at
/// offset(x) − floor − down-jitter. The offset line is the middle of the widest slab with
/// slope s that has all up points above it and all down points below it. Only the lower
/// convex hull of the up points and the upper convex hull of the down points can touch such a
/// slab, so the window keeps those hulls (amortized O(1) per appended exchange; rebuilt in
/// O(n) when old exchanges leave in a batch, or one arrives out of order) and running sums for
/// the spread; a fit costs O(h) per evaluation of a concave objective maximized by ternary
/// search over the slope.
struct EnvelopeWindow: Sendable {
    struct Sample: Sendable {
        var x: Nanos  // local midpoint
        var up: Nanos  // c2s
        var down: Nanos  // s2c
        var roundTrip: Nanos
    }

    struct Point: Sendable {
        var x: Double
        var y: Double
    }

    private(set) var samples: [Sample] = []
    private var upHull: [Point] = []  // lower hull of the up points
    private var downHull: [Point] = []  // upper hull of the down points
    private var x0: Nanos = 0
    private var y0: Nanos = 0
    private var sumX: Int64 = 0  // Σ (x − x0)
    private var sumUp: Int64 = 0  // Σ (c2s − y0)
    private var sumDown: Int64 = 0  // Σ (−s2c − y0)
    private(set) var minimumRoundTrip: Nanos = .max

    var count: Int { samples.count }
    var span: Nanos { samples.isEmpty ? 0 : samples[samples.count - 1].x - samples[0].x }

    mutating func removeAll() {
        samples.removeAll(keepingCapacity: true)
        upHull.removeAll(keepingCapacity: true)
        downHull.removeAll(keepingCapacity: true)
        sumX = 0
        sumUp = 0
        sumDown = 0
        minimumRoundTrip = .max
    }

    /// Adds a sample, keeping x order.
    mutating func insert(_ sample: Sample) {
        if samples.isEmpty {
            x0 = sample.x
            y0 = (sample.up - sample.down) / 2
        }
        minimumRoundTrip = min(minimumRoundTrip, sample.roundTrip)
        sumX += sample.x - x0
        sumUp += sample.up - y0
        sumDown += -sample.down - y0
        if let last = samples.last, sample.x < last.x {
            var index = samples.count - 1
            while index > 0, samples[index - 1].x > sample.x { index -= 1 }
            samples.insert(sample, at: index)
            rebuild()
        } else {
            samples.append(sample)
            pushHulls(sample)
        }
    }

    /// Drops samples older than `window` behind the newest or beyond `maximum`, in batches of a
    /// sixteenth of either, so the O(n) rebuild is amortized.
    mutating func trim(window: Nanos, maximum: Int) {
        guard let newest = samples.last?.x else { return }
        guard newest - samples[0].x > window + window / 16 || samples.count > maximum + maximum / 16 else { return }
        var drop = 0
        while drop < samples.count - 1, samples[drop].x < newest - window || samples.count - drop > maximum { drop += 1 }
        samples.removeFirst(drop)
        rebuild()
    }

    private mutating func rebuild() {
        upHull.removeAll(keepingCapacity: true)
        downHull.removeAll(keepingCapacity: true)
        sumX = 0
        sumUp = 0
        sumDown = 0
        minimumRoundTrip = .max
        guard let first = samples.first else { return }
        x0 = first.x
        y0 = (first.up - first.down) / 2
        for sample in samples {
            sumX += sample.x - x0
            sumUp += sample.up - y0
            sumDown += -sample.down - y0
            minimumRoundTrip = min(minimumRoundTrip, sample.roundTrip)
            pushHulls(sample)
        }
    }

    private mutating func pushHulls(_ sample: Sample) {
        let x = Double(sample.x - x0)
        Self.push(Point(x: x, y: Double(sample.up - y0)), onto: &upHull, lower: true)
        Self.push(Point(x: x, y: Double(-sample.down - y0)), onto: &downHull, lower: false)
    }

    /// Andrew's monotone chain step: keeps the lower (or upper) convex hull of x-sorted points.
    private static func push(_ p: Point, onto hull: inout [Point], lower: Bool) {
        while hull.count >= 2 {
            let o = hull[hull.count - 2]
            let a = hull[hull.count - 1]
            let cross = (a.x - o.x) * (p.y - o.y) - (a.y - o.y) * (p.x - o.x)
            if lower ? cross <= 0 : cross >= 0 { hull.removeLast() } else { break }
        }
        hull.append(p)
    }

    /// Fits the slab; nil when empty. `priorSlope` breaks ties (a single sample, or points that
    /// allow a range of slopes) with a vanishing quadratic pull; `priorBand`, when given, is
    /// searched first.
    func fit(priorSlope: Double, priorBand: Double?, maximumSlope: Double) -> ClockEstimator.Fit? {
        guard let newest = samples.last else { return nil }
        func ceiling(_ s: Double) -> Double {  // lowest up point seen along slope s
            var best = Double.infinity
            for p in upHull { best = min(best, p.y - s * p.x) }
            return best
        }
        func floor(_ s: Double) -> Double {  // highest down point seen along slope s
            var best = -Double.infinity
            for p in downHull { best = max(best, p.y - s * p.x) }
            return best
        }
        func objective(_ s: Double) -> Double {
            let pull = s - priorSlope
            return ceiling(s) - floor(s) - 1e9 * pull * pull
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
            let lower = max(-maximumSlope, priorSlope - band)
            let upper = min(maximumSlope, priorSlope + band)
            slope = search(lower, upper)
            if slope - lower < 1e-12 || upper - slope < 1e-12 { slope = search(-maximumSlope, maximumSlope) }
        } else {
            slope = search(-maximumSlope, maximumSlope)
        }
        let top = ceiling(slope)
        let bottom = floor(slope)
        // Spread of each direction above its floor: with an exponential-like tail of mean m,
        // the lowest of n points lies about m/n above the true floor.
        let n = Double(samples.count)
        let meanX = Double(sumX) / n
        let upMean = Double(sumUp) / n - slope * meanX - top
        let downMean = bottom - (Double(sumDown) / n - slope * meanX)
        let standardError = max((upMean * upMean + downMean * downMean).squareRoot() / n, 1_000)
        let span = Double(self.span)
        let xN = Double(newest.x - x0)
        return ClockEstimator.Fit(
            xReference: newest.x, offsetAtReference: Double(y0) + (top + bottom) / 2 + slope * xN, slope: slope,
            halfGap: (top - bottom) / 2, standardError: standardError,
            rateStandardError: span > 0 ? min(3.5 * standardError / span, 2 * maximumSlope) : 2 * maximumSlope)
    }
}
