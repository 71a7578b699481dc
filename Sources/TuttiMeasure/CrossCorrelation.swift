/// The normalized cross-correlation search that finds where a window of one signal recurs in
/// another, to a fraction of a sample.
///
/// For each candidate start k, ρ(k) = Σ r[i]·o[k+i] / √(Σ r[i]² · Σ o[k+i]²): 1 for the same
/// content at any level (volume does not matter), lower for different content. The best k is
/// refined by a parabola through ρ(k−1), ρ(k), ρ(k+1), whose vertex gives both the
/// sub-sample position and the peak correlation. Music concentrates its energy low in
/// the band, where the correlation peak is close to a parabola, so the refinement's bias stays
/// far below a sample (see the tests for figures on a music-like signal).
///
/// Edge cases: candidates are clipped to where the other window fits in the other signal; nil
/// when none is left or either window is silent (zero energy). A best k on the edge of the
/// clipped range is flagged ``Peak/atEdge``: the true peak may lie outside.
enum CrossCorrelation {
    struct Peak: Equatable {
        /// Fractional start in the other signal that matches the reference window's start.
        var start: Double
        /// ρ at the peak of the parabola (at most 1): the correlation the content would have at
        /// the exact sub-sample alignment, so a half-sample offset of bright content is not
        /// mistaken for a poor match.
        var correlation: Double
        /// The best integer start was the first or last candidate.
        var atEdge: Bool
    }

    /// The best match of `reference[referenceStart ..< referenceStart + length]` among windows
    /// `other[k ..< k + length]` for k in `candidates`.
    static func bestMatch(
        reference: [Float], referenceStart: Int, length: Int, other: [Float], candidates: ClosedRange<Int>
    ) -> Peak? {
        guard length > 0, referenceStart >= 0, referenceStart + length <= reference.count else { return nil }
        let lowest = max(candidates.lowerBound, 0)
        let highest = min(candidates.upperBound, other.count - length)
        guard lowest <= highest else { return nil }
        return reference.withUnsafeBufferPointer { r in
            other.withUnsafeBufferPointer { o in
                let ref = r.baseAddress! + referenceStart
                let referenceEnergy = energy(ref, length)
                guard referenceEnergy > 0 else { return nil }
                var otherEnergy = energy(o.baseAddress! + lowest, length)
                var scores = [Double](repeating: 0, count: highest - lowest + 1)
                for k in lowest...highest {
                    if k > lowest {
                        let leaving = Double(o[k - 1])
                        let entering = Double(o[k + length - 1])
                        otherEnergy = max(0, otherEnergy - leaving * leaving + entering * entering)
                    }
                    let denominator = (referenceEnergy * otherEnergy).squareRoot()
                    scores[k - lowest] = denominator > 0 ? dot(ref, o.baseAddress! + k, length) / denominator : 0
                }
                var best = 0
                for i in scores.indices where scores[i] > scores[best] { best = i }
                guard scores[best] > 0 else { return nil }
                var offset = 0.0
                var height = scores[best]
                if best > 0, best + 1 < scores.count {
                    let (a, b, c) = (scores[best - 1], scores[best], scores[best + 1])
                    let curvature = a - 2 * b + c
                    if curvature < 0 {
                        offset = max(-0.5, min(0.5, 0.5 * (a - c) / curvature))
                        height = min(1, b - (c - a) * (c - a) / (8 * curvature))
                    }
                }
                return Peak(start: Double(lowest + best) + offset, correlation: height,
                            atEdge: best == 0 || best == scores.count - 1)
            }
        }
    }

    /// Σ x[i]² in `Double`.
    static func energy(_ x: UnsafePointer<Float>, _ length: Int) -> Double {
        var sum: Double = 0
        for i in 0..<length { sum += Double(x[i]) * Double(x[i]) }
        return sum
    }

    /// Σ a[i]·b[i]: four `Float` lanes over blocks of 256, summed in `Double` (fast, and exact
    /// enough that the parabola's inputs differ from their true values by ~1e-6 relative).
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ length: Int) -> Double {
        var total: Double = 0
        var i = 0
        while i < length {
            let end = min(i + 256, length)
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            while i + 4 <= end {
                s0 += a[i] * b[i]
                s1 += a[i + 1] * b[i + 1]
                s2 += a[i + 2] * b[i + 2]
                s3 += a[i + 3] * b[i + 3]
                i += 4
            }
            while i < end {
                s0 += a[i] * b[i]
                i += 1
            }
            total += Double(s0 + s1) + Double(s2 + s3)
        }
        return total
    }
}
