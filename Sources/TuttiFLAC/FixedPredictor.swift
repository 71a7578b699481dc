/// FLAC's fixed predictors of order 0...4: the residual of order `k` is the `k`-th difference
/// of the signal (RFC 9639, section 9.2.5), so they need no coefficients and no multiplies.
enum FixedPredictor {
    /// The highest fixed order.
    static let maxOrder = 4

    /// Σ|residual| for orders 0...4 over samples 4..<count (the same samples for every order,
    /// so the sums compare fairly), written to `sums[0...4]`.
    ///
    /// Differences are exact in 32 bits for samples of up to 27 bits (|4th difference| ≤ 16·2²⁶).
    /// Sums run in 64 bits. `count` below 5 gives zero sums.
    static func absoluteSums(_ x: UnsafePointer<Int32>, count: Int, into sums: UnsafeMutablePointer<UInt64>) {
        var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0, s4: UInt64 = 0
        if count > 4 {
            // Each step reloads its five samples instead of carrying differences from the last
            // step, so no value depends on the previous iteration and the loop vectorizes.
            for i in 4..<count {
                let a = x[i], b = x[i - 1], c = x[i - 2], d = x[i - 3], e = x[i - 4]
                let e1 = a &- b, f1 = b &- c, g1 = c &- d, h1 = d &- e
                let e2 = e1 &- f1, f2 = f1 &- g1, g2 = g1 &- h1
                let e3 = e2 &- f2, f3 = f2 &- g2
                let e4 = e3 &- f3
                s0 &+= UInt64(a.magnitude)
                s1 &+= UInt64(e1.magnitude)
                s2 &+= UInt64(e2.magnitude)
                s3 &+= UInt64(e3.magnitude)
                s4 &+= UInt64(e4.magnitude)
            }
        }
        sums[0] = s0
        sums[1] = s1
        sums[2] = s2
        sums[3] = s3
        sums[4] = s4
    }

    /// The order among 0...`maxOrder` whose residual has the smallest magnitude sum (ties go
    /// to the lower order).
    static func bestOrder(_ x: UnsafePointer<Int32>, count: Int, maxOrder: Int, sums: UnsafeMutablePointer<UInt64>) -> Int {
        absoluteSums(x, count: count, into: sums)
        var best = 0
        for order in 1...min(maxOrder, Self.maxOrder) where sums[order] < sums[best] { best = order }
        return min(best, max(count - 1, 0))
    }

    /// Writes the order-`order` residual to `residual[order..<count]`, copying the first `order`
    /// samples as they are (warm-up).
    static func residual(_ x: UnsafePointer<Int32>, count: Int, order: Int, into residual: UnsafeMutablePointer<Int32>) {
        for i in 0..<min(order, count) { residual[i] = x[i] }
        guard count > order else { return }
        switch order {
        case 0:
            for i in 0..<count { residual[i] = x[i] }
        case 1:
            for i in 1..<count { residual[i] = x[i] &- x[i - 1] }
        case 2:
            for i in 2..<count { residual[i] = x[i] &- 2 &* x[i - 1] &+ x[i - 2] }
        case 3:
            for i in 3..<count { residual[i] = x[i] &- 3 &* x[i - 1] &+ 3 &* x[i - 2] &- x[i - 3] }
        default:
            for i in 4..<count {
                residual[i] = x[i] &- 4 &* x[i - 1] &+ 6 &* x[i - 2] &- 4 &* x[i - 3] &+ x[i - 4]
            }
        }
    }
}
