import NIOCore

extension ByteBuffer {
    /// Reads a `TimeVal` (i32 sec, i32 usec, little-endian), or nil if fewer than 8 bytes are readable.
    public mutating func readTimeVal() -> TimeVal? {
        guard
            let sec = getInteger(at: readerIndex, endianness: .little, as: Int32.self),
            let usec = getInteger(at: readerIndex + 4, endianness: .little, as: Int32.self)
        else { return nil }
        moveReaderIndex(forwardBy: 8)
        return TimeVal(sec: sec, usec: usec)
    }

    /// Appends a `TimeVal`, normalized so that usec is in 0..<1_000_000.
    public mutating func writeTimeVal(_ value: TimeVal) {
        let normal = TimeVal(nanoseconds: value.nanoseconds)
        writeInteger(normal.sec, endianness: .little)
        writeInteger(normal.usec, endianness: .little)
    }

    /// Reads a u32-length-prefixed blob as a slice (no copy); throws when the length runs past the payload.
    mutating func readSnapBlob(field: StaticString) throws(WireError) -> ByteBuffer {
        guard let length = readInteger(endianness: .little, as: UInt32.self) else {
            throw .truncated(field: "\(field) length")
        }
        guard let blob = readSlice(length: Int(length)) else {
            throw .truncated(field: "\(field) (\(length) bytes announced, \(readableBytes) present)")
        }
        return blob
    }

    /// Reads a u32-length-prefixed UTF-8 string; throws on truncation or invalid UTF-8.
    mutating func readSnapString(field: StaticString) throws(WireError) -> String {
        let blob = try readSnapBlob(field: field)
        let bytes = blob.readableBytesView
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .garbled(field: "\(field)", reason: "not valid UTF-8")
        }
        return text
    }

    /// Appends a u32 length and the bytes of `blob`.
    mutating func writeSnapBlob(_ blob: ByteBuffer) {
        writeInteger(UInt32(blob.readableBytes), endianness: .little)
        writeImmutableBuffer(blob)
    }

    /// Appends a u32 length and the UTF-8 bytes of `text`.
    mutating func writeSnapString(_ text: String) {
        let utf8 = text.utf8
        writeInteger(UInt32(utf8.count), endianness: .little)
        writeBytes(utf8)
    }
}
