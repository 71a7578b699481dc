/// The two checksums a FLAC stream carries: CRC-8 over each frame header and CRC-16 over each
/// whole frame (RFC 9639, section 9.1 and 9.3).
///
/// Both are MSB-first ("non-reflected"), start at zero and have no final XOR: CRC-8 uses the
/// polynomial x⁸+x²+x+1 (0x07), CRC-16 uses x¹⁶+x¹⁵+x²+1 (0x8005). Both are table driven;
/// CRC-16 runs eight bytes per step ("slicing by 8") because the decoder checks every byte of
/// every frame, which makes it part of the hot path.

/// CRC-8 as FLAC frame headers use it (polynomial 0x07, initial value 0).
public enum CRC8 {
    /// `table[b]` is the CRC of the single byte `b` from a zero register.
    @usableFromInline
    static let table: [UInt8] = (0..<256).map { byte in
        var crc = UInt8(byte)
        for _ in 0..<8 { crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x07 : crc << 1 }
        return crc
    }

    /// Feeds one byte into a running CRC.
    @inlinable
    public static func update(_ crc: UInt8, _ byte: UInt8) -> UInt8 {
        table.withUnsafeBufferPointer { $0[Int(crc ^ byte)] }
    }

    /// Feeds `bytes` into a running CRC (`crc` is 0 for a fresh checksum). Empty input returns `crc`.
    public static func update(_ crc: UInt8, _ bytes: UnsafeRawBufferPointer) -> UInt8 {
        table.withUnsafeBufferPointer { t in
            var crc = crc
            for byte in bytes { crc = t[Int(crc ^ byte)] }
            return crc
        }
    }

    /// The CRC-8 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt8 { update(0, bytes) }

    /// The CRC-8 of `bytes`.
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt8 {
        var crc: UInt8 = 0
        for byte in bytes { crc = update(crc, byte) }
        return crc
    }
}

/// CRC-16 as FLAC frame footers use it (polynomial 0x8005, initial value 0).
public enum CRC16 {
    /// Eight tables of 256 entries: `tables[k * 256 + b]` is the CRC of byte `b` followed by `k`
    /// zero bytes, from a zero register. Table 0 is the ordinary byte-at-a-time table.
    @usableFromInline
    static let tables: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x8005 : crc << 1 }
            t[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = t[(k - 1) * 256 + byte]
                t[k * 256 + byte] = (previous << 8) ^ t[Int(previous >> 8)]
            }
        }
        return t
    }()

    /// Feeds one byte into a running CRC.
    @inlinable
    public static func update(_ crc: UInt16, _ byte: UInt8) -> UInt16 {
        tables.withUnsafeBufferPointer { (crc << 8) ^ $0[Int(UInt8(crc >> 8) ^ byte)] }
    }

    /// Feeds `bytes` into a running CRC (`crc` is 0 for a fresh checksum). Empty input returns `crc`.
    public static func update(_ crc: UInt16, _ bytes: UnsafeRawBufferPointer) -> UInt16 {
        tables.withUnsafeBufferPointer { t in
            var crc = crc
            var i = 0
            let n = bytes.count
            // Eight bytes at a time: the register's two bytes are XORed into the first two
            // message bytes, then each byte's contribution is looked up by its distance to the end.
            while i + 8 <= n {
                let b0 = bytes[i] ^ UInt8(crc >> 8), b1 = bytes[i + 1] ^ UInt8(truncatingIfNeeded: crc)
                crc = t[7 * 256 + Int(b0)] ^ t[6 * 256 + Int(b1)]
                    ^ t[5 * 256 + Int(bytes[i + 2])] ^ t[4 * 256 + Int(bytes[i + 3])]
                    ^ t[3 * 256 + Int(bytes[i + 4])] ^ t[2 * 256 + Int(bytes[i + 5])]
                    ^ t[1 * 256 + Int(bytes[i + 6])] ^ t[Int(bytes[i + 7])]
                i += 8
            }
            while i < n {
                crc = (crc << 8) ^ t[Int(UInt8(crc >> 8) ^ bytes[i])]
                i += 1
            }
            return crc
        }
    }

    /// The CRC-16 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 { update(0, bytes) }

    /// The CRC-16 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
