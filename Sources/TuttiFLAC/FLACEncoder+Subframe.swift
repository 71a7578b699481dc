/// What the encoder decided for one channel of one block.
struct SubframePlan: Sendable {
    /// The four subframe kinds (RFC 9639, section 9.2).
    enum Kind: Sendable { case constant, verbatim, fixed, lpc }

    var kind = Kind.verbatim
    /// Predictor order (warm-up samples) for FIXED and LPC.
    var order = 0
    /// Low zero bits common to every sample, removed before prediction.
    var wasted = 0
    /// Bits per (shifted) sample in this subframe: the frame's, +1 for a side channel, − wasted.
    var sampleBits = 0
    /// LPC coefficient precision and shift.
    var precision = 0
    var shift = 0
    /// How the residual is coded.
    var rice = RicePlan()
    /// The subframe's size in bits (estimated for the residual, exact for the rest).
    var bits = 0
    /// Largest sample magnitude (after removing wasted bits), bounding LPC sums.
    var peak: Int64 = 0
}

extension FLACEncoderWorkspace {
    /// Chooses the smallest coding of slot `slot`'s first `count` samples, each `sampleBits`
    /// bits wide, trying the LPC windows `windows` (all when nil), and records it in
    /// `plans[slot]` with its residual, coefficients and Rice parameters.
    ///
    /// Tries CONSTANT (all samples equal), then VERBATIM, the FIXED order with the smallest
    /// residual and, if the level allows, one LPC predictor per window. Wasted bits are
    /// detected first and shifted out of the samples in place. ``refine(slot:count:windows:)``
    /// can later try more windows.
    func analyze(slot: Int, count n: Int, sampleBits frameSampleBits: Int, windows range: Range<Int>? = nil) {
        let x = samples(slot)
        var combined: Int32 = 0
        var low = x[0], high = x[0]
        for i in 0..<n {
            let v = x[i]
            combined |= v
            low = min(low, v)
            high = max(high, v)
        }
        var plan = SubframePlan()
        if low == high {
            plan.kind = .constant
            plan.sampleBits = frameSampleBits
            plan.bits = 8 + frameSampleBits
            plans[slot] = plan
            return
        }
        let wasted = min(combined.trailingZeroBitCount, frameSampleBits - 1)
        if wasted > 0 {
            for i in 0..<n { x[i] >>= Int32(wasted) }
            low >>= Int32(wasted)
            high >>= Int32(wasted)
        }
        let bits = frameSampleBits - wasted
        plan.wasted = wasted
        plan.sampleBits = bits
        plan.bits = 8 + wasted + n * bits
        plan.peak = max(abs(Int64(low)), abs(Int64(high)))

        // FIXED: differences are exact in 32 bits for samples of up to 27 bits.
        if bits <= 27 && n > FixedPredictor.maxOrder {
            let order = FixedPredictor.bestOrder(x, count: n, maxOrder: FixedPredictor.maxOrder, sums: partitionSums)
            FixedPredictor.residual(x, count: n, order: order, into: candidateResidual)
            var candidate = plan
            candidate.kind = .fixed
            candidate.order = order
            candidate.rice = ricePlan(count: n, order: order)
            candidate.bits = 8 + wasted + order * bits + candidate.rice.bits
            if candidate.bits < plan.bits { keep(candidate, slot: slot, count: n, into: &plan) }
        }
        plans[slot] = plan
        refine(slot: slot, count: n, windows: range ?? 0..<settings.apodizations.count)
    }

    /// Tries LPC predictors from the windows `range` on slot `slot` (already analyzed by
    /// ``analyze(slot:count:sampleBits:windows:)``), keeping any that codes smaller.
    func refine(slot: Int, count n: Int, windows range: Range<Int>) {
        var plan = plans[slot]
        let maxOrder = min(settings.maxLPCOrder, n - 1)
        guard plan.kind != .constant, maxOrder > 0, !range.isEmpty else { return }
        let x = samples(slot)
        let bits = plan.sampleBits
        let precision = FLACEncoderSettings.coefficientPrecision(bitsPerSample: bits, blockSize: n)
        prepareWindows(length: n)
        for i in 0..<n { samplesAsDouble[i] = Double(x[i]) }
        for index in range {
            let window = windows[index]
            let autocorrelation = windowAutocorrelations + index * (LPC.maxOrder + 1)
            let components = windowComponents[index]
            if !components.isEmpty && components.allSatisfy({ range.contains($0) && $0 < index }) {
                // A punch-out window: the sum of its parts' autocorrelations, computed already.
                for lag in 0...maxOrder { autocorrelation[lag] = 0 }
                for component in components {
                    let part = windowAutocorrelations + component * (LPC.maxOrder + 1)
                    for lag in 0...maxOrder { autocorrelation[lag] += part[lag] }
                }
            } else {
                LPCAutocorrelation.compute(
                    samples: x, window: window, maxLag: maxOrder, scratch: windowed, result: autocorrelation)
            }
            let top = LPC.levinsonDurbin(
                autocorrelation: autocorrelation, maxOrder: maxOrder, coefficients: predictors, errors: predictionErrors)
            guard top > 0 else { continue }
            let order = bestOrder(top: top, count: n, precision: precision, sampleBits: bits, energy: window.energy)
            guard let shift = LPC.quantize(
                predictors + (order - 1) * LPC.maxOrder, order: order, precision: precision, into: candidateCoefficients),
                LPC.residual(
                    x, samplesAsDouble, count: n, coefficients: candidateCoefficients, order: order, shift: shift,
                    peak: plan.peak, scratch: windowed, into: candidateResidual)
            else { continue }
            var candidate = plan
            candidate.kind = .lpc
            candidate.order = order
            candidate.precision = precision
            candidate.shift = shift
            candidate.rice = ricePlan(count: n, order: order)
            candidate.bits = 8 + plan.wasted + order * (bits + precision) + 9 + candidate.rice.bits
            if candidate.bits < plan.bits {
                keep(candidate, slot: slot, count: n, into: &plan)
                coefficients(slot).update(from: candidateCoefficients, count: order)
            }
        }
        plans[slot] = plan
    }

    /// Makes `candidate` (whose residual and parameters are in the candidate buffers) the plan.
    private func keep(_ candidate: SubframePlan, slot: Int, count n: Int, into plan: inout SubframePlan) {
        plan = candidate
        residual(slot).update(from: candidateResidual, count: n)
        parameters(slot).update(from: candidateParameters, count: 1 << candidate.rice.partitionOrder)
    }

    /// The Rice coding of the candidate residual.
    private func ricePlan(count n: Int, order: Int) -> RicePlan {
        // 5-bit parameter fields are used only when some partition needs a parameter above 14.
        RiceCoding.plan(
            residual: candidateResidual, blockSize: n, predictorOrder: order,
            minOrder: settings.minPartitionOrder, maxOrder: settings.maxPartitionOrder, maxParameter: 30,
            sums: partitionSums, scratch: parameterScratch, parameters: candidateParameters)
    }

    /// The order in 1...top with the smallest estimated size.
    private func bestOrder(top: Int, count: Int, precision: Int, sampleBits: Int, energy: Double) -> Int {
        var best = (bits: Double.infinity, order: 1)
        for order in 1...top {
            let bits = LPC.estimatedBits(
                error: predictionErrors[order], windowEnergy: energy, count: count, order: order,
                precision: precision, sampleBits: sampleBits)
            if bits < best.bits { best = (bits, order) }
        }
        return best.order
    }

    /// Writes slot `slot`'s planned subframe for `count` samples.
    func writeSubframe(slot: Int, count n: Int, into writer: inout BitWriter) {
        let plan = plans[slot]
        let x = samples(slot)
        let type: UInt32
        switch plan.kind {
        case .constant: type = 0
        case .verbatim: type = 1
        case .fixed: type = 8 | UInt32(plan.order)
        case .lpc: type = 32 | UInt32(plan.order - 1)
        }
        writer.write(type, count: 7)  // a zero padding bit, then the 6-bit type
        if plan.wasted > 0 {
            writer.write(1, count: 1)
            writer.writeUnary(plan.wasted - 1)
        } else {
            writer.write(0, count: 1)
        }
        let bits = plan.sampleBits
        switch plan.kind {
        case .constant:
            writer.write(signed: x[0], count: bits)
        case .verbatim:
            for i in 0..<n { writer.write(signed: x[i], count: bits) }
        case .fixed, .lpc:
            for i in 0..<plan.order { writer.write(signed: x[i], count: bits) }
            if plan.kind == .lpc {
                writer.write(UInt32(plan.precision - 1), count: 4)
                writer.write(UInt32(plan.shift), count: 5)
                let c = coefficients(slot)
                for j in 0..<plan.order { writer.write(signed: c[j], count: plan.precision) }
            }
            RiceCoding.write(
                residual: residual(slot), blockSize: n, predictorOrder: plan.order, plan: plan.rice,
                parameters: parameters(slot), into: &writer)
        }
    }
}
