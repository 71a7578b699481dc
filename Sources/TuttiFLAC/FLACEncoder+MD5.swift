#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MD5 (RFC 1321), for the STREAMINFO signature of a whole file: the digest of the audio as
/// interleaved little-endian samples of whole bytes (RFC 9639, section 8.2).
///
/// Incremental: ``update(_:)`` takes any number of bytes, ``finish()`` pads and returns the
/// 16-byte digest. Not for security; FLAC uses it only to check a decode.
struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    /// Bytes waiting for a whole 64-byte block.
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    /// The per-step additive constants, ⌊|sin(i + 1)| · 2³²⌋.
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }
    /// The per-step rotation amounts, four per round.
    private static let rotations: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    init() { pending.reserveCapacity(64) }

    /// Feeds `bytes`.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == 64 {
                pending.withUnsafeBytes { process(block: $0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= 64 {
            process(block: bytes.baseAddress! + offset)
            offset += 64
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    /// Pads the message and returns the digest.
    mutating func finish() -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
        for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let saved = length
        tail.withUnsafeBytes { update($0) }
        length = saved
        var digest: [UInt8] = []
        for word in [state.0, state.1, state.2, state.3] {
            for i in 0..<4 { digest.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return digest
    }

    /// One 64-byte block: four rounds of sixteen steps.
    private mutating func process(block: UnsafeRawPointer) {
        var (a, b, c, d) = state
        for step in 0..<64 {
            let mixed: UInt32
            let index: Int
            switch step / 16 {
            case 0: mixed = (b & c) | (~b & d); index = step
            case 1: mixed = (d & b) | (~d & c); index = (5 * step + 1) % 16
            case 2: mixed = b ^ c ^ d; index = (3 * step + 5) % 16
            default: mixed = c ^ (b | ~d); index = (7 * step) % 16
            }
            let rotation = Self.rotations[(step / 16) * 4 + step % 4]
            let word = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            let sum = a &+ mixed &+ Self.constants[step] &+ word
            (a, d, c) = (d, c, b)
            b = b &+ (sum << rotation | sum >> (32 - rotation))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
