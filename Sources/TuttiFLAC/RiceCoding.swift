/// How a subframe's residual is Rice coded: the partition order and each partition's parameter.
///
/// FLAC splits the residual into 2^order partitions of `blockSize >> order` samples (the first
/// one short by the predictor order) and codes each with its own Rice parameter, 4 bits wide
/// (method 0, parameters 0...14) or 5 bits wide (method 1, 0...30); the all-ones parameter is
/// the escape that stores the partition's samples in plain binary (RFC 9639, section 9.2.7).
struct RicePlan: Sendable, Equatable {
    /// log₂ of the partition count.
    var partitionOrder = 0
    /// 4 or 5: the width of each parameter field.
    var parameterBits = 4
    /// Estimated size of the whole residual section in bits (method and order fields included).
    var bits = 0

    /// A parameter value meaning "escape with zero-bit samples": the partition is all zeros.
    static let zeroPartition: UInt8 = 0xFF
}

/// Chooses Rice parameters and partition orders, and writes Rice-coded residuals.
enum RiceCoding {
    /// The largest partition order the encoder uses (FLAC allows 15).
    static let maxPartitionOrder = 8

    /// Estimated bits of a partition of `count` residuals whose zigzag-folded values sum to
    /// `sum`, with the best parameter below `limit`; returns (bits, parameter).
    ///
    /// With parameter k a value u costs (u >> k) + 1 + k bits; Σ(u >> k) is estimated as
    /// (sum − count·2^(k−1)) >> k, the flooring losing half a unit per value on average. Three
    /// parameters around log₂(mean) are compared. All-zero partitions use the zero-width escape.
    @inline(__always)
    static func partitionCost(sum: UInt64, count: Int, limit: Int) -> (bits: Int, parameter: UInt8) {
        guard sum > 0 else { return (5, RicePlan.zeroPartition) }
        guard count > 0 else { return (0, 0) }
        let mean = sum / UInt64(count)
        let guess = min(mean == 0 ? 0 : 63 - mean.leadingZeroBitCount, limit)
        var bestBits = Int.max
        var bestParameter = 0
        for k in max(guess - 1, 0)...min(guess + 1, limit) {
            var quotients: UInt64
            if k == 0 {
                quotients = sum
            } else {
                let bias = UInt64(count) << UInt64(k - 1)
                quotients = sum > bias ? (sum - bias) >> UInt64(k) : 0
            }
            let bits = count * (k + 1) + Int(clamping: quotients)
            if bits < bestBits {
                bestBits = bits
                bestParameter = k
            }
        }
        return (bestBits, UInt8(bestParameter))
    }

    /// Finds the cheapest partition order in `minOrder...maxOrder` (reduced until the block
    /// divides evenly and every partition holds more samples than the predictor order) and
    /// writes its parameters to `parameters[0..<2^order]`.
    ///
    /// `residual[predictorOrder..<blockSize]` is read once: the folded sums of the finest
    /// partitions are added pairwise for every coarser order. `sums` must hold
    /// 2^(maxOrder+1) values and `scratch` 2^maxOrder parameters. `maxParameter` caps the
    /// parameter (30 at most); the 5-bit fields of method 1 are used only for orders where some
    /// partition's parameter exceeds 14.
    static func plan(
        residual: UnsafePointer<Int32>, blockSize: Int, predictorOrder: Int,
        minOrder: Int, maxOrder: Int, maxParameter: Int,
        sums: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt8>,
        parameters: UnsafeMutablePointer<UInt8>
    ) -> RicePlan {
        var top = min(maxOrder, maxPartitionOrder)
        while top > 0 && (blockSize % (1 << top) != 0 || (blockSize >> top) <= predictorOrder) { top -= 1 }
        let bottom = min(minOrder, top)

        // Finest partitions' sums.
        let finest = 1 << top
        let size = blockSize >> top
        var start = predictorOrder
        for p in 0..<finest {
            let end = (p + 1) * size
            var sum: UInt64 = 0
            for i in start..<end {
                let v = residual[i]
                sum &+= UInt64(UInt32(bitPattern: (v &<< 1) ^ (v &>> 31)))
            }
            sums[p] = sum
            start = end
        }

        var best = RicePlan(partitionOrder: 0, parameterBits: 4, bits: .max)
        var levelSums = sums
        var order = top
        while true {
            let partitions = 1 << order
            let partitionSize = blockSize >> order
            var bits = 0
            var largest = 0
            for p in 0..<partitions {
                let count = p == 0 ? partitionSize - predictorOrder : partitionSize
                let (cost, parameter) = partitionCost(sum: levelSums[p], count: count, limit: maxParameter)
                bits += cost
                scratch[p] = parameter
                if parameter != RicePlan.zeroPartition { largest = max(largest, Int(parameter)) }
            }
            let parameterBits = largest > 14 ? 5 : 4
            bits += 6 + partitions * parameterBits
            if bits < best.bits {
                best = RicePlan(partitionOrder: order, parameterBits: parameterBits, bits: bits)
                for p in 0..<partitions { parameters[p] = scratch[p] }
            }
            if order <= bottom { break }
            // Coarser level: pairwise sums, stored after this level's.
            let next = levelSums + partitions
            for p in 0..<(partitions / 2) { next[p] = levelSums[2 * p] &+ levelSums[2 * p + 1] }
            levelSums = next
            order -= 1
        }
        return best
    }

    /// Writes the residual section: coding method, partition order, then each partition's
    /// parameter and Rice codes (or the zero-width escape for all-zero partitions).
    static func write(
        residual: UnsafePointer<Int32>, blockSize: Int, predictorOrder: Int,
        plan: RicePlan, parameters: UnsafePointer<UInt8>, into writer: inout BitWriter
    ) {
        writer.write(plan.parameterBits == 5 ? 1 : 0, count: 2)
        writer.write(UInt32(plan.partitionOrder), count: 4)
        let escape: UInt32 = plan.parameterBits == 5 ? 31 : 15
        let partitionSize = blockSize >> plan.partitionOrder
        var start = predictorOrder
        for p in 0..<(1 << plan.partitionOrder) {
            let end = (p + 1) * partitionSize
            let parameter = parameters[p]
            if parameter == RicePlan.zeroPartition {
                writer.write(escape, count: plan.parameterBits)
                writer.write(0, count: 5)
            } else {
                writer.write(UInt32(parameter), count: plan.parameterBits)
                writer.writeRice(residual + start, count: end - start, parameter: Int(parameter))
            }
            start = end
        }
    }
}
