/// Writes bits MSB-first into a caller-owned byte buffer, as every FLAC frame field is laid out.
///
/// Bits gather in a 64-bit accumulator and leave it four bytes at a time, so a field of up to
/// 32 bits costs a shift, an OR and (every fourth byte) one unaligned big-endian store. The
/// writer does not own its memory: the encoder's workspace allocates one buffer big enough for
/// the largest frame it can produce (a frame never exceeds its verbatim size, which the encoder
/// guarantees by choosing VERBATIM when nothing is smaller) and hands it to a fresh writer per
/// frame, so encoding allocates nothing per block. Writing past `capacity` traps (a bug, never
/// input-dependent).
struct BitWriter {
    /// The buffer's first byte.
    let base: UnsafeMutablePointer<UInt8>
    /// Bytes the buffer holds.
    let capacity: Int
    /// Whole bytes already stored to `base`.
    private(set) var storedBytes = 0
    /// Pending bits, right-aligned: the low `pendingBits` bits of `accumulator`.
    private var accumulator: UInt64 = 0
    /// How many bits `accumulator` holds; always below 32 between calls.
    private var pendingBits = 0

    /// A writer that starts at `base[0]`; nothing is written until the first call.
    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Bits written so far.
    var bitCount: Int { storedBytes * 8 + pendingBits }

    /// True when the next bit starts a byte.
    var isByteAligned: Bool { pendingBits & 7 == 0 }

    /// Moves whole 32-bit groups of pending bits to memory.
    @inline(__always)
    private mutating func spill() {
        if pendingBits >= 32 {
            precondition(storedBytes + 8 <= capacity, "BitWriter buffer too small")
            pendingBits -= 32
            let word = UInt32(truncatingIfNeeded: accumulator &>> UInt64(pendingBits))
            UnsafeMutableRawPointer(base + storedBytes).storeBytes(of: word.bigEndian, as: UInt32.self)
            storedBytes += 4
        }
    }

    /// Writes the low `count` bits of `value` (0...32); higher bits of `value` must be zero.
    @inline(__always)
    mutating func write(_ value: UInt32, count: Int) {
        accumulator = accumulator &<< UInt64(count) | UInt64(value)
        pendingBits += count
        spill()
    }

    /// Writes `value` as a `count`-bit two's complement number (1...32 bits).
    @inline(__always)
    mutating func write(signed value: Int32, count: Int) {
        let mask: UInt32 = count == 32 ? .max : (1 << UInt32(count)) - 1
        write(UInt32(bitPattern: value) & mask, count: count)
    }

    /// Writes `zeros` zero bits and then a one: the unary code FLAC uses for wasted bits and
    /// Rice quotients.
    @inline(__always)
    mutating func writeUnary(_ zeros: Int) {
        var left = zeros
        while left >= 32 {
            write(0, count: 32)
            left -= 32
        }
        write(1, count: left + 1)
    }

    /// Writes one residual as a Rice code with parameter `k` (0...30): the zigzag-folded value's
    /// quotient in unary, then its `k` low bits.
    @inline(__always)
    mutating func writeRice(_ value: Int32, parameter k: Int) {
        let folded = UInt32(bitPattern: (value << 1) ^ (value >> 31))
        let quotient = Int(folded >> UInt32(k))
        if quotient + k < 32 {
            // Quotient zeros, the stop bit and the k low bits in a single field.
            let low = folded & ((1 << UInt32(k)) &- 1)
            write((1 << UInt32(k)) | low, count: quotient + 1 + k)
        } else {
            writeUnary(quotient)
            if k > 0 { write(folded & ((1 << UInt32(k)) &- 1), count: k) }
        }
    }

    /// Writes a block of residuals with one Rice parameter; the hot loop of frame writing.
    ///
    /// Keeps the accumulator in a local so the loop runs in registers.
    mutating func writeRice(_ values: UnsafePointer<Int32>, count: Int, parameter k: Int) {
        var acc = accumulator
        var bits = pendingBits
        var stored = storedBytes
        let shift = UInt32(k)
        let mask: UInt32 = (1 << shift) &- 1
        let stop: UInt32 = 1 << shift
        precondition(stored + 8 <= capacity, "BitWriter buffer too small")
        for i in 0..<count {
            let value = values[i]
            let folded = UInt32(bitPattern: (value &<< 1) ^ (value &>> 31))
            var quotient = Int(folded &>> shift)
            if quotient + k >= 32 {
                // Long quotient: flush zeros 32 at a time (rare: only for outliers).
                accumulator = acc
                pendingBits = bits
                storedBytes = stored
                while quotient >= 32 {
                    write(0, count: 32)
                    quotient -= 32
                }
                write(0, count: quotient)
                write(stop | (folded & mask), count: k + 1)
                acc = accumulator
                bits = pendingBits
                stored = storedBytes
                continue
            }
            let length = quotient + 1 + k
            acc = acc &<< UInt64(length) | UInt64(stop | (folded & mask))
            bits += length
            if bits >= 32 {
                precondition(stored + 8 <= capacity, "BitWriter buffer too small")
                bits -= 32
                let word = UInt32(truncatingIfNeeded: acc &>> UInt64(bits))
                UnsafeMutableRawPointer(base + stored).storeBytes(of: word.bigEndian, as: UInt32.self)
                stored += 4
            }
        }
        accumulator = acc
        pendingBits = bits
        storedBytes = stored
    }

    /// Pads with zero bits to the next byte boundary (nothing when already aligned).
    mutating func padToByte() {
        let pad = (8 - pendingBits & 7) & 7
        if pad > 0 { write(0, count: pad) }
    }

    /// Stores every pending bit; the writer must be byte aligned. Returns the bytes written.
    mutating func flush() -> Int {
        precondition(isByteAligned, "BitWriter.flush needs byte alignment")
        while pendingBits > 0 {
            precondition(storedBytes < capacity, "BitWriter buffer too small")
            pendingBits -= 8
            base[storedBytes] = UInt8(truncatingIfNeeded: accumulator >> UInt64(pendingBits))
            storedBytes += 1
        }
        accumulator = 0
        return storedBytes
    }
}
