/// Decodes single FLAC frames into per-channel 32-bit samples, reusing its buffers.
///
/// A frame is a header (``FLACFrameHeader``), one subframe per channel, zero padding to a byte
/// boundary and a CRC-16 over everything before it. This struct does the subframes, the
/// inter-channel decorrelation and the CRC check; ``FLACDecoder`` and ``FLACStreamDecoder``
/// drive it over chunks and files. Decoded samples stay in ``samples`` until the next frame:
/// channel `c` is `samples[c * stride ..< c * stride + blockSize]`.
///
/// Nothing here traps on hostile input: every read is bounds checked, arithmetic on sample
/// values wraps, and a frame that is cut off or damaged ends in a ``FLACError``.
struct FLACFrameDecoder {
    /// The stream's description, for frames that defer sample rate or size to it, and to check
    /// each frame's channel count and sample size against.
    var streamInfo: FLACStreamInfo?
    /// Decoded samples of the last frame, channel after channel, `stride` apart.
    private(set) var samples: [Int32] = []
    /// Distance between channels in ``samples``: the largest block size seen so far.
    private(set) var stride = 0
    /// The side channel of a 32-bit stereo frame, which needs 33 bits.
    private var wideSide: [Int64] = []
    /// Residuals for the 33-bit side channel, decoded before widening.
    private var wideResidual: [Int32] = []

    init(streamInfo: FLACStreamInfo?) {
        self.streamInfo = streamInfo
        if let streamInfo { reserve(blockSize: streamInfo.maxBlockSize, channels: streamInfo.channels) }
    }

    /// Makes room for `blockSize` samples in each of `channels` channels (contents not kept).
    private mutating func reserve(blockSize: Int, channels: Int) {
        let newStride = max(stride, blockSize)
        guard newStride != stride || samples.count < newStride * channels else { return }
        stride = newStride
        samples = [Int32](repeating: 0, count: newStride * channels)
    }

    /// Decodes the frame starting at byte `offset` of `bytes`.
    ///
    /// Returns its header and its length in bytes (CRC-16 included); the samples are in
    /// ``samples``. Throws ``FLACError`` for a missing sync code, a header or subframe that is
    /// cut off or invalid, a frame whose channels or sample size differ from STREAMINFO, and a
    /// CRC-16 mismatch. After a throw ``samples`` holds garbage.
    mutating func decodeFrame(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FLACError) -> (header: FLACFrameHeader, length: Int) {
        let header = try FLACFrameHeader.parse(bytes, at: offset, streamInfo: streamInfo)
        if let streamInfo {
            guard header.channels == streamInfo.channels else {
                throw .streamMismatch("frame has \(header.channels) channels, the stream \(streamInfo.channels)")
            }
            guard header.bitsPerSample == streamInfo.bitsPerSample else {
                throw .streamMismatch("frame has \(header.bitsPerSample)-bit samples, the stream \(streamInfo.bitsPerSample)-bit")
            }
        }
        let channels = header.channels
        let blockSize = header.blockSize
        reserve(blockSize: blockSize, channels: channels)

        var reader = BitReader(bytes, byteOffset: offset + header.byteCount)
        let side = header.channelAssignment.sideChannel
        let stride = self.stride
        for channel in 0..<channels {
            let bits = header.bitsPerSample + (channel == side ? 1 : 0)
            if bits > 32 {
                try decodeWideSide(&reader, blockSize: blockSize)
            } else {
                try samples.withUnsafeMutableBufferPointer { buffer throws(FLACError) in
                    try Self.decodeSubframe(
                        &reader, into: buffer.baseAddress! + channel * stride, blockSize: blockSize, bitsPerSample: bits,
                        residual: nil)
                }
            }
        }

        reader.alignToByte()
        let crcPosition = reader.bitPosition / 8
        let expected = UInt16(try reader.read(16, "frame CRC-16"))
        let computed = CRC16.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<crcPosition]))
        guard expected == computed else { throw .frameCRCMismatch(expected: expected, computed: computed) }

        decorrelate(header.channelAssignment, blockSize: blockSize, wide: header.bitsPerSample == 32)
        return (header, crcPosition + 2 - offset)
    }

    /// Decodes a 33-bit side channel into ``wideSide``.
    private mutating func decodeWideSide(_ reader: inout BitReader, blockSize: Int) throws(FLACError) {
        if wideSide.count < blockSize {
            wideSide = [Int64](repeating: 0, count: blockSize)
            wideResidual = [Int32](repeating: 0, count: blockSize)
        }
        try wideResidual.withUnsafeMutableBufferPointer { residual throws(FLACError) in
            try wideSide.withUnsafeMutableBufferPointer { side throws(FLACError) in
                try Self.decodeSubframe(
                    &reader, into: side.baseAddress!, blockSize: blockSize, bitsPerSample: 33, residual: residual.baseAddress!)
            }
        }
    }

    /// Turns left/side, right/side and mid/side channel pairs back into left and right.
    ///
    /// Works in 64 bits, so 32-bit streams (33-bit side, in ``wideSide`` when `wide`) and
    /// mid/side sums of 31-bit samples come out exact.
    private mutating func decorrelate(_ assignment: FLACChannelAssignment, blockSize n: Int, wide: Bool) {
        if case .independent = assignment { return }
        let stride = self.stride
        wideSide.withUnsafeBufferPointer { wideSide in
            samples.withUnsafeMutableBufferPointer { buffer in
                let a = buffer.baseAddress!, b = a + stride
                @inline(__always) func side(_ i: Int) -> Int64 {
                    wide ? wideSide[i] : Int64(assignment == .rightSide ? a[i] : b[i])
                }
                switch assignment {
                case .leftSide:
                    if wide {
                        for i in 0..<n { b[i] = Int32(truncatingIfNeeded: Int64(a[i]) &- wideSide[i]) }
                    } else {
                        for i in 0..<n { b[i] = a[i] &- b[i] }
                    }
                case .rightSide:
                    if wide {
                        for i in 0..<n { a[i] = Int32(truncatingIfNeeded: wideSide[i] &+ Int64(b[i])) }
                    } else {
                        for i in 0..<n { a[i] = a[i] &+ b[i] }
                    }
                case .midSide:
                    for i in 0..<n {
                        let s = side(i)
                        let mid = Int64(a[i]) &<< 1 | (s & 1)
                        a[i] = Int32(truncatingIfNeeded: (mid &+ s) &>> 1)
                        b[i] = Int32(truncatingIfNeeded: (mid &- s) &>> 1)
                    }
                case .independent:
                    break
                }
            }
        }
    }
}
