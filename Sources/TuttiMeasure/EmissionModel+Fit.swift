extension EmissionModel {
    /// Fits the emission model of one capture (see ``EmissionModel`` for the method).
    ///
    /// - Parameters:
    ///   - capture: the player's reads, in arrival order, and its lead.
    ///   - format: the PCM layout, for bytes per frame and the nominal rate.
    ///   - origin: the harness instant that becomes time 0 of the model (keeps `Double` precise).
    /// - Returns: a model; with no reads, one that maps frame 0 to time 0 at the nominal rate.
    public static func fit(
        _ capture: PlayerCapture, format: CaptureFormat, origin: Int64, options: Options = Options()
    ) -> EmissionModel {
        let nominal = 1e9 / Double(format.sampleRate)
        let starts = writeStarts(capture, bytesPerFrame: format.bytesPerFrame, nominal: nominal, origin: origin,
                                 writeGap: options.writeGapNanoseconds)
        let frameCount = capture.byteCount / format.bytesPerFrame
        guard !starts.x.isEmpty else {
            return EmissionModel(anchors: [], nanosecondsPerFrame: [], nominal: nominal, frameCount: frameCount, clockPPM: 0)
        }
        let (x, y) = (starts.x, starts.y)
        let segments = segmentRanges(x: x, y: y, threshold: options.breakThresholdNanoseconds)
        var slopes = segments.map { theilSenSlopeOfBlockLows(x: Array(x[$0]), y: Array(y[$0])) }
        let longest = segments.indices.max { segments[$0].count < segments[$1].count }!
        let fallbackSlope = slopes[longest] ?? slopes.compactMap { $0 }.first ?? 0
        var anchors: [Anchor] = []
        anchors.reserveCapacity(x.count)
        let lead = Double(capture.leadNanoseconds)
        for (segment, range) in segments.enumerated() {
            let slope = slopes[segment] ?? fallbackSlope
            slopes[segment] = slope
            let residuals = range.map { y[$0] - slope * x[$0] }
            let offsets = lowerEnvelope(x: Array(x[range]), residuals: residuals, halfWidth: options.envelopeHalfWidthNanoseconds,
                                        earlyOutlier: options.earlyOutlierNanoseconds)
            for (k, i) in range.enumerated() {
                var time = x[i] * (1 + slope) + offsets[k] + lead
                if k > 0, let previous = anchors.last { time = max(time, previous.time + 1) }
                anchors.append(Anchor(frame: starts.frame[i], time: time, segment: segment))
            }
        }
        let rates = slopes.map { nominal * (1 + ($0 ?? 0)) }
        let ppm = (1 / (1 + fallbackSlope) - 1) * 1e6
        return EmissionModel(anchors: anchors, nanosecondsPerFrame: rates, nominal: nominal, frameCount: frameCount, clockPPM: ppm)
    }

    /// The write starts of a capture: first frame, nominal position x = frame·nominal and
    /// y = arrival − origin − x (all nanoseconds).
    ///
    /// A read starts a write when it arrives `writeGap` after the previous read — unless the
    /// previous read *filled the harness's buffer* (returned as many bytes as the largest read):
    /// then more bytes were already waiting, and this read is the tail of an earlier write
    /// delayed by the harness, whose frames were emitted earlier than its stamp suggests. That
    /// rule is dropped when it would discard most gap-separated reads (the player's writes are
    /// exactly the harness's buffer size, so every read is full).
    static func writeStarts(
        _ capture: PlayerCapture, bytesPerFrame: Int, nominal: Double, origin: Int64, writeGap: Double
    ) -> (frame: [Double], x: [Double], y: [Double]) {
        let fullRead = capture.reads.map(\.bytes.count).max() ?? 0
        var candidates: [(frame: Double, arrival: Int64, afterFullRead: Bool)] = []
        var bytesBefore = 0
        var previous: CaptureRead?
        for read in capture.reads where !read.bytes.isEmpty {
            let gapped = previous.map { Double(read.arrival - $0.arrival) >= writeGap } ?? true
            if gapped, (bytesBefore + read.bytes.count) / bytesPerFrame > bytesBefore / bytesPerFrame {
                let afterFull = previous.map { $0.bytes.count == fullRead } ?? false
                candidates.append((Double(bytesBefore) / Double(bytesPerFrame), read.arrival, afterFull))
            }
            previous = read
            bytesBefore += read.bytes.count
        }
        let suspect = candidates.filter(\.afterFullRead).count
        if 2 * suspect < candidates.count { candidates.removeAll(where: \.afterFullRead) }
        let frames = candidates.map(\.frame)
        let xs = frames.map { $0 * nominal }
        let ys = zip(candidates, xs).map { Double($0.arrival - origin) - $1 }
        return (frames, xs, ys)
    }

    /// Splits the write starts where y lastingly jumps by more than `threshold`.
    ///
    /// A split after point i is *suspected* when the medians of y over the k points before and
    /// the k points after differ by more than `threshold` (k = the points of 0.3 s, at least 9;
    /// medians, so neither read-delay spikes nor the odd early point fake a jump; both sides
    /// need at least 5 points). Around a real step the suspicion holds for a run of about k
    /// consecutive i; the split goes where the difference of the *means* peaks in that run.
    static func segmentRanges(x: [Double], y: [Double], threshold: Double) -> [Range<Int>] {
        let n = x.count
        guard n > 10 else { return [0..<n] }
        let spacing = median(zip(x.dropFirst(), x).map { $0 - $1 })
        let k = max(9, Int(300_000_000 / max(spacing, 1)))
        var ranges: [Range<Int>] = []
        var segmentStart = 0
        func sides(_ i: Int) -> (before: ArraySlice<Double>, after: ArraySlice<Double>)? {
            let before = y[max(segmentStart, i - k + 1)...i]
            let after = y[(i + 1)...min(n - 1, i + k)]
            return before.count >= 5 && after.count >= 5 ? (before, after) : nil
        }
        func suspected(_ i: Int) -> Bool {
            guard let (before, after) = sides(i) else { return false }
            return abs(median(Array(after)) - median(Array(before))) > threshold
        }
        func meanJump(_ i: Int) -> Double {
            guard let (before, after) = sides(i) else { return 0 }
            return abs(after.reduce(0, +) / Double(after.count) - before.reduce(0, +) / Double(before.count))
        }
        var i = 0
        while i + 1 < n {
            guard suspected(i) else {
                i += 1
                continue
            }
            var end = i
            while end + 2 < n, suspected(end + 1) { end += 1 }
            let split = (i...end).max { meanJump($0) < meanJump($1) }!
            ranges.append(segmentStart..<(split + 1))
            segmentStart = split + 1
            i = split + 1
        }
        ranges.append(segmentStart..<n)
        return ranges
    }

    /// The slope of the lower envelope: Theil–Sen (median of pairwise slopes at least 0.25 s
    /// apart) through the second-lowest point of each 0.5 s block. Nil with fewer than two blocks.
    static func theilSenSlopeOfBlockLows(x: [Double], y: [Double]) -> Double? {
        let block = 500_000_000.0
        guard let first = x.first else { return nil }
        var lows: [(x: Double, y: Double)] = []
        var start = 0
        while start < x.count {
            var end = start
            let blockIndex = ((x[start] - first) / block).rounded(.down)
            while end < x.count, ((x[end] - first) / block).rounded(.down) == blockIndex { end += 1 }
            let order = (start..<end).sorted { y[$0] < y[$1] }
            let pick = order.count >= 3 ? order[1] : order[0]
            lows.append((x[pick], y[pick]))
            start = end
        }
        var slopes: [Double] = []
        for a in lows.indices {
            for b in (a + 1)..<lows.count where lows[b].x - lows[a].x >= block / 2 {
                slopes.append((lows[b].y - lows[a].y) / (lows[b].x - lows[a].x))
            }
        }
        return slopes.isEmpty ? nil : median(slopes)
    }

    /// For each point, the second-lowest residual among points within ±`halfWidth` in x (the
    /// lowest when the window holds one point), leaving out points more than `earlyOutlier`
    /// below the median of their 0.5 s block: no genuine write arrives early, so such a point is
    /// a write tail that slipped through ``writeStarts(_:bytesPerFrame:nominal:origin:writeGap:)``.
    static func lowerEnvelope(x: [Double], residuals: [Double], halfWidth: Double, earlyOutlier: Double) -> [Double] {
        var usable = [Bool](repeating: true, count: x.count)
        var blockStart = 0
        while blockStart < x.count {
            var blockEnd = blockStart
            while blockEnd < x.count, x[blockEnd] < x[blockStart] + 500_000_000 { blockEnd += 1 }
            let blockMedian = median(Array(residuals[blockStart..<blockEnd]))
            for i in blockStart..<blockEnd where residuals[i] < blockMedian - earlyOutlier { usable[i] = false }
            blockStart = blockEnd
        }
        var result = [Double](repeating: 0, count: x.count)
        var low = 0
        var high = 0
        for i in x.indices {
            while x[low] < x[i] - halfWidth { low += 1 }
            while high + 1 < x.count, x[high + 1] <= x[i] + halfWidth { high += 1 }
            var lowest = Double.infinity
            var second = Double.infinity
            for j in low...high where usable[j] {
                let r = residuals[j]
                if r < lowest {
                    second = lowest
                    lowest = r
                } else if r < second {
                    second = r
                }
            }
            result[i] = second.isFinite ? second : lowest.isFinite ? lowest : residuals[i]
        }
        return result
    }
}

/// The median of `values` (mean of the middle two for an even count); 0 when empty.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
