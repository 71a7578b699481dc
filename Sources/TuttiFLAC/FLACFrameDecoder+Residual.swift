/// The residual of a predictive subframe (RFC 9639, section 9.2.7).
///
/// Two bits pick the coding method (0: 4-bit Rice parameters, 1: 5-bit; 2 and 3 are reserved),
/// four bits the partition order: the block splits into 2^order equal partitions, the first of
/// which is shortened by the predictor order (its first samples are the warm-up). Each
/// partition has its own Rice parameter, or the escape value (all ones) followed by five bits
/// giving the width of plain two's complement residuals (zero width meaning all zero).
extension FLACFrameDecoder {
    /// Decodes `blockSize − predictorOrder` residuals into `out`.
    ///
    /// Throws ``FLACError/badResidual(_:)`` for a reserved method or partitions that do not
    /// divide the block, and ``FLACError/endOfData(_:)`` when the bits run out.
    static func decodeResidual(
        _ reader: inout BitReader, into out: UnsafeMutablePointer<Int32>, blockSize: Int, predictorOrder: Int
    ) throws(FLACError) {
        let method = try reader.read(2, "residual coding method")
        guard method < 2 else { throw .badResidual("coding method \(method) is reserved") }
        let parameterBits = method == 0 ? 4 : 5
        let escape = method == 0 ? 15 : 31
        let partitionOrder = Int(try reader.read(4, "partition order"))
        let partitionSize = blockSize >> partitionOrder
        guard partitionSize << partitionOrder == blockSize else {
            throw .badResidual("block size \(blockSize) does not split into \(1 << partitionOrder) partitions")
        }
        guard partitionSize >= predictorOrder else {
            throw .badResidual("first partition (\(partitionSize)) is shorter than predictor order \(predictorOrder)")
        }

        var position = 0
        for partition in 0..<(1 << partitionOrder) {
            let count = partition == 0 ? partitionSize - predictorOrder : partitionSize
            let parameter = Int(try reader.read(parameterBits, "Rice parameter"))
            if parameter == escape {
                let width = Int(try reader.read(5, "escaped residual width"))
                guard reader.bitsLeft >= width * count else { throw .endOfData("escaped partition of \(count) \(width)-bit residuals") }
                if width == 0 {
                    (out + position).initialize(repeating: 0, count: count)
                } else {
                    for i in 0..<count { out[position + i] = try reader.readSigned(width, "escaped residual") }
                }
            } else {
                try reader.readRice(into: out + position, count: count, parameter: parameter)
            }
            position += count
        }
    }
}
