/// Reads a byte buffer MSB first, the way every FLAC field is laid out.
///
/// It keeps up to 64 bits in a cache word and refills it eight bytes at a time while at least
/// eight bytes remain (byte by byte near the end). Every read is bounds checked: asking for
/// more bits than are left throws ``FLACError/endOfData(_:)`` and leaves the reader where it
/// was, so a truncated or hostile input never traps.
///
/// The reader borrows the buffer: it must not outlive the `withUnsafeBytes` scope that made it.
/// The cache may hold bits past the valid ones; they are always the stream's true next bits,
/// which is what lets a refill OR a fresh word over them.
struct BitReader {
    /// First byte of the buffer.
    private let base: UnsafeRawPointer?
    /// Bytes in the buffer.
    let count: Int
    /// Next byte not yet counted into ``cacheBits``.
    private var bytePosition: Int
    /// Valid bits, left aligned (bit 63 is the next bit to read).
    private var cache: UInt64 = 0
    /// How many of `cache`'s high bits are valid.
    private var cacheBits: Int = 0

    /// Reads `bytes` from byte `offset` (clamped to the buffer).
    init(_ bytes: UnsafeRawBufferPointer, byteOffset offset: Int = 0) {
        base = bytes.baseAddress.map { UnsafeRawPointer($0) }
        count = bytes.count
        bytePosition = min(max(offset, 0), bytes.count)
    }

    /// The position of the next bit, counted from the buffer's first bit.
    var bitPosition: Int { bytePosition &* 8 &- cacheBits }

    /// Bits left before the end of the buffer.
    var bitsLeft: Int { (count &- bytePosition) &* 8 &+ cacheBits }

    /// Whether the next bit starts a byte.
    var isByteAligned: Bool { cacheBits & 7 == 0 }

    /// Tops the cache up to at least 56 valid bits where the buffer allows.
    @inline(__always)
    private mutating func refill() {
        if let base, bytePosition &+ 8 <= count {
            let word = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: bytePosition, as: UInt64.self))
            cache |= word &>> UInt64(cacheBits)
            let added = (63 &- cacheBits) &>> 3
            bytePosition &+= added
            cacheBits &+= added &* 8
        } else {
            refillSlowly()
        }
    }

    /// Byte-by-byte refill for the buffer's last seven bytes.
    private mutating func refillSlowly() {
        guard let base else { return }
        while cacheBits <= 56, bytePosition < count {
            let byte = UInt64(base.load(fromByteOffset: bytePosition, as: UInt8.self))
            cache = (cache & ~(UInt64.max &>> UInt64(cacheBits))) | (byte &<< UInt64(56 &- cacheBits))
            bytePosition &+= 1
            cacheBits &+= 8
        }
    }

    /// Drops `n` valid bits (`n` ≤ `cacheBits`, so at most 64).
    @inline(__always)
    private mutating func consume(_ n: Int) {
        cache = n >= 64 ? 0 : cache &<< UInt64(n)
        cacheBits &-= n
    }

    /// Reads `n` bits (0...32) as an unsigned value.
    @inline(__always)
    mutating func read(_ n: Int, _ field: @autoclosure () -> String = "field") throws(FLACError) -> UInt32 {
        if n == 0 { return 0 }
        if cacheBits < n {
            refill()
            guard cacheBits >= n else { throw .endOfData("\(field()) needs \(n) bits, \(cacheBits) left") }
        }
        let value = UInt32(truncatingIfNeeded: cache &>> UInt64(64 &- n))
        consume(n)
        return value
    }

    /// Reads `n` bits (0...32) as a two's complement signed value.
    @inline(__always)
    mutating func readSigned(_ n: Int, _ field: @autoclosure () -> String = "field") throws(FLACError) -> Int32 {
        if n == 0 { return 0 }
        if cacheBits < n {
            refill()
            guard cacheBits >= n else { throw .endOfData("\(field()) needs \(n) bits, \(cacheBits) left") }
        }
        let value = Int64(bitPattern: cache) &>> Int64(64 &- n)
        consume(n)
        return Int32(truncatingIfNeeded: value)
    }

    /// Reads `n` bits (0...64) as a two's complement signed value (for 33-bit side channels).
    mutating func readSigned64(_ n: Int, _ field: @autoclosure () -> String = "field") throws(FLACError) -> Int64 {
        guard n > 32 else { return Int64(try readSigned(n, field())) }
        guard bitsLeft >= n else { throw .endOfData("\(field()) needs \(n) bits, \(bitsLeft) left") }
        let high = Int64(try readSigned(n - 32, field()))
        let low = Int64(try read(32, field()))
        return high &<< 32 | low
    }

    /// Reads a unary number: the count of 0 bits before the next 1 bit (which is consumed).
    @inline(__always)
    mutating func readUnary(_ field: @autoclosure () -> String = "unary value") throws(FLACError) -> Int {
        var zeros = 0
        while true {
            if cacheBits == 0 {
                refill()
                guard cacheBits > 0 else { throw .endOfData("\(field()) runs past the end") }
            }
            let lz = cache.leadingZeroBitCount
            if lz < cacheBits {
                consume(lz &+ 1)
                return zeros &+ lz
            }
            zeros &+= cacheBits
            consume(cacheBits)
        }
    }

    /// Skips to the next byte boundary (no-op when aligned).
    mutating func alignToByte() {
        consume(cacheBits & 7)
    }

    /// Skips `n` bits; throws if fewer are left.
    mutating func skip(_ n: Int) throws(FLACError) {
        guard n <= bitsLeft else { throw .endOfData("skipping \(n) bits, \(bitsLeft) left") }
        var n = n
        while n > 0 {
            let step = min(n, 32)
            _ = try read(step)
            n -= step
        }
    }

    /// Reads a Rice-coded partition: `n` residuals with parameter `k` (0...30), zig-zag mapped
    /// to signed, written to `out[0..<n]`. This is the decoder's hot path.
    ///
    /// The reader's state lives in locals for the loop: refill the cache word, then decode every
    /// code word that fits in it. Code words longer than the cache (a huge quotient) and the
    /// buffer's last bytes go through the checked single-field reads. Values that overflow
    /// 32 bits (only in hostile input) wrap instead of trapping.
    mutating func readRice(into out: UnsafeMutablePointer<Int32>, count n: Int, parameter k: Int) throws(FLACError) {
        guard let base else {
            if n > 0 { throw .endOfData("Rice partition in an empty buffer") }
            return
        }
        let shiftK = UInt64(k)
        let lowShift = 63 &- shiftK  // k = 0 shifts the (already halved) tail out entirely
        let limit = count &- 8
        var cache = self.cache, cacheBits = self.cacheBits, position = self.bytePosition
        var i = 0
        while i < n {
            if position <= limit {
                let word = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                cache |= word &>> UInt64(cacheBits)
                let added = (63 &- cacheBits) &>> 3
                position &+= added
                cacheBits &+= added &* 8
            } else {
                // Within eight bytes of the end: one checked code word at a time.
                self.cache = cache; self.cacheBits = cacheBits; self.bytePosition = position
                try readRiceSlowly(into: out + i, parameter: k)
                cache = self.cache; cacheBits = self.cacheBits; position = self.bytePosition
                i &+= 1
                continue
            }
            let before = i
            // Every code word (quotient zeros, stop bit, k low bits) that the cache holds whole.
            while i < n {
                let lz = cache.leadingZeroBitCount
                let length = lz &+ 1 &+ k
                if length > cacheBits { break }
                // Here length ≤ cacheBits ≤ 63, so no shift below reaches 64.
                let tail = cache &<< UInt64(lz &+ 1)
                let low = (tail &>> 1) &>> lowShift
                cache = tail &<< shiftK
                cacheBits &-= length
                let u = UInt32(truncatingIfNeeded: (UInt64(lz) &<< shiftK) | low)
                out[i] = Int32(bitPattern: (u &>> 1) ^ (0 &- (u & 1)))
                i &+= 1
            }
            if i == before && i < n {
                // A code word longer than a full cache.
                self.cache = cache; self.cacheBits = cacheBits; self.bytePosition = position
                try readRiceSlowly(into: out + i, parameter: k)
                cache = self.cache; cacheBits = self.cacheBits; position = self.bytePosition
                i &+= 1
            }
        }
        self.cache = cache; self.cacheBits = cacheBits; self.bytePosition = position
    }

    /// One Rice code word through the checked reads.
    private mutating func readRiceSlowly(into out: UnsafeMutablePointer<Int32>, parameter k: Int) throws(FLACError) {
        let q = try readUnary("Rice quotient")
        let low = try read(k, "Rice remainder")
        let u = (UInt32(truncatingIfNeeded: q) &<< UInt32(k)) | low
        out.pointee = Int32(bitPattern: (u &>> 1) ^ (0 &- (u & 1)))
    }
}
