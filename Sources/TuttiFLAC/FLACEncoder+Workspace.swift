/// The encoder's scratch memory, allocated once per encoder so encoding a block allocates
/// nothing.
///
/// It is pure workspace: nothing in it survives from one frame to the next except the LPC
/// windows (which depend only on the block length). An encoder value that finds its workspace
/// shared with a copy of itself makes a fresh one before writing (copy on write), so copies of
/// a ``FLACEncoder`` never race on it; that is why the class may be `@unchecked Sendable`.
final class FLACEncoderWorkspace: @unchecked Sendable {
    let settings: FLACEncoderSettings
    let channels: Int
    let bitsPerSample: Int
    /// The largest block this workspace can encode.
    let capacity: Int
    /// Signal slots: one per channel, plus mid (slot 2) and side (slot 3) for stereo.
    let slotCount: Int

    /// `slotCount × capacity` samples, slot-major.
    let signal: UnsafeMutablePointer<Int32>
    /// `slotCount × capacity` residuals of each slot's chosen subframe.
    let chosenResidual: UnsafeMutablePointer<Int32>
    /// A candidate residual being evaluated.
    let candidateResidual: UnsafeMutablePointer<Int32>
    /// The slot being analyzed, as doubles.
    let samplesAsDouble: UnsafeMutablePointer<Double>
    /// Windowed samples for autocorrelation.
    let windowed: UnsafeMutablePointer<Double>
    /// Levinson–Durbin predictors, row `p − 1` holding order `p` (32 × 32).
    let predictors: UnsafeMutablePointer<Double>
    /// Prediction error per order (0...32).
    let predictionErrors: UnsafeMutablePointer<Double>
    /// A candidate's quantized coefficients (32).
    let candidateCoefficients: UnsafeMutablePointer<Int32>
    /// Each slot's chosen quantized coefficients (32 per slot).
    let chosenCoefficients: UnsafeMutablePointer<Int32>
    /// Rice parameters: a candidate's, and each slot's chosen (2^8 per slot).
    let candidateParameters: UnsafeMutablePointer<UInt8>
    let chosenParameters: UnsafeMutablePointer<UInt8>
    let parameterScratch: UnsafeMutablePointer<UInt8>
    /// Partition sums for every partition order (2^9).
    let partitionSums: UnsafeMutablePointer<UInt64>
    /// Each slot's chosen subframe.
    var plans: [SubframePlan]
    /// The frame being written; big enough for any frame (see ``outputCapacity``).
    let output: UnsafeMutablePointer<UInt8>
    let outputCapacity: Int

    /// The LPC windows for blocks of `windowLength` samples.
    private(set) var windows: [LPCWindow] = []
    private(set) var windowLength = -1
    /// For each window, the windows whose autocorrelations add up to its own (punch-out
    /// windows), or empty.
    private(set) var windowComponents: [[Int]] = []
    /// Each window's autocorrelation (lags 0...32) in the current ``refine(slot:count:windows:)``.
    let windowAutocorrelations: UnsafeMutablePointer<Double>

    static let parametersPerSlot = 1 << RiceCoding.maxPartitionOrder

    init(settings: FLACEncoderSettings, channels: Int, bitsPerSample: Int) {
        self.settings = settings
        self.channels = channels
        self.bitsPerSample = bitsPerSample
        capacity = settings.blockSize
        slotCount = channels == 2 ? 4 : channels
        signal = .allocate(capacity: slotCount * capacity)
        chosenResidual = .allocate(capacity: slotCount * capacity)
        candidateResidual = .allocate(capacity: capacity)
        windowed = .allocate(capacity: capacity)
        samplesAsDouble = .allocate(capacity: capacity)
        predictors = .allocate(capacity: LPC.maxOrder * LPC.maxOrder)
        predictionErrors = .allocate(capacity: LPC.maxOrder + 1)
        candidateCoefficients = .allocate(capacity: LPC.maxOrder)
        windowAutocorrelations = .allocate(capacity: (LPC.maxOrder + 1) * max(settings.apodizations.count, 1))
        chosenCoefficients = .allocate(capacity: LPC.maxOrder * slotCount)
        candidateParameters = .allocate(capacity: Self.parametersPerSlot)
        chosenParameters = .allocate(capacity: Self.parametersPerSlot * slotCount)
        parameterScratch = .allocate(capacity: Self.parametersPerSlot)
        partitionSums = .allocate(capacity: 2 * Self.parametersPerSlot)
        plans = [SubframePlan](repeating: SubframePlan(), count: slotCount)
        // A subframe never exceeds its verbatim size by more than its header (the encoder picks
        // VERBATIM otherwise) and the estimate behind that choice errs by under a bit a sample:
        // twice the verbatim size of every channel (33 bits a sample, side included) plus
        // headers is always enough.
        outputCapacity = 2 * (capacity * channels * 33 / 8) + 64 * channels + 64
        output = .allocate(capacity: outputCapacity)
    }

    deinit {
        signal.deallocate()
        chosenResidual.deallocate()
        candidateResidual.deallocate()
        windowed.deallocate()
        samplesAsDouble.deallocate()
        predictors.deallocate()
        predictionErrors.deallocate()
        candidateCoefficients.deallocate()
        windowAutocorrelations.deallocate()
        chosenCoefficients.deallocate()
        candidateParameters.deallocate()
        chosenParameters.deallocate()
        parameterScratch.deallocate()
        partitionSums.deallocate()
        output.deallocate()
    }

    /// Slot `slot`'s samples.
    @inline(__always) func samples(_ slot: Int) -> UnsafeMutablePointer<Int32> { signal + slot * capacity }
    /// Slot `slot`'s chosen residual.
    @inline(__always) func residual(_ slot: Int) -> UnsafeMutablePointer<Int32> { chosenResidual + slot * capacity }
    /// Slot `slot`'s chosen coefficients.
    @inline(__always) func coefficients(_ slot: Int) -> UnsafeMutablePointer<Int32> { chosenCoefficients + slot * LPC.maxOrder }
    /// Slot `slot`'s chosen Rice parameters.
    @inline(__always) func parameters(_ slot: Int) -> UnsafeMutablePointer<UInt8> { chosenParameters + slot * Self.parametersPerSlot }

    /// Makes the LPC windows match blocks of `length` samples (recomputed only when it changes,
    /// which for a stream happens once, and once more for a file's short last block).
    func prepareWindows(length: Int) {
        guard length != windowLength else { return }
        windows = settings.apodizations.map { LPCWindow($0, length: length) }
        windowComponents = settings.apodizations.map { apodization in
            guard case .punchoutTukey(let parts, let index, let taper) = apodization else { return [] }
            return (0..<parts).filter { $0 != index }.compactMap { other in
                settings.apodizations.firstIndex(of: .partialTukey(parts: parts, index: other, taper: taper))
            }
        }
        windowLength = length
    }
}
