/// Errors in D-Bus bytes, signatures or values: what a peer sent wrong, or what we were asked to
/// send that the protocol cannot carry. Never a trap.
public enum DBusWireError: Error, Equatable, CustomStringConvertible {
    case badSignature(String, String)
    case truncated(String)
    case invalid(String)
    case mismatch(expected: String, got: String)

    public var description: String {
        switch self {
        case .badSignature(let signature, let why): "bad D-Bus signature '\(signature)': \(why)"
        case .truncated(let what): "D-Bus message ends inside \(what)"
        case .invalid(let what): "invalid D-Bus data: \(what)"
        case .mismatch(let expected, let got): "D-Bus value of type '\(got)' where '\(expected)' belongs"
        }
    }
}

/// Writes values in D-Bus's little-endian wire format. Alignment is counted from the start of
/// the buffer, which must itself sit on an 8-byte boundary of the message (header and body do).
struct DBusWriter {
    var bytes: [UInt8] = []

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        pad(to: MemoryLayout<T>.size)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: DBusValue, as type: DBusType) throws(DBusWireError) {
        switch (type, value) {
        case (.basic("y"), .byte(let v)): bytes.append(v)
        case (.basic("b"), .boolean(let v)): append(UInt32(v ? 1 : 0))
        case (.basic("n"), .int16(let v)): append(v)
        case (.basic("q"), .uint16(let v)): append(v)
        case (.basic("i"), .int32(let v)): append(v)
        case (.basic("u"), .uint32(let v)): append(v)
        case (.basic("x"), .int64(let v)): append(v)
        case (.basic("t"), .uint64(let v)): append(v)
        case (.basic("d"), .double(let v)): append(v.bitPattern)
        case (.basic("s"), .string(let s)), (.basic("o"), .objectPath(let s)):
            let utf8 = Array(s.utf8)
            guard !utf8.contains(0) else { throw .invalid("a string holds a NUL byte") }
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
            bytes.append(0)
        case (.basic("g"), .signature(let s)):
            let utf8 = Array(s.utf8)
            guard utf8.count <= 255 else { throw .badSignature(s, "longer than 255 bytes") }
            bytes.append(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
            bytes.append(0)
        case (.array(let element), .array(_, let items)):
            try writeArray(elementAlignment: element.alignment) { (writer: inout DBusWriter) throws(DBusWireError) in
                for item in items { try writer.write(item, as: element) }
            }
        case (.dictionary(let key, let valueType), .dictionary(_, _, let entries)):
            try writeArray(elementAlignment: 8) { (writer: inout DBusWriter) throws(DBusWireError) in
                for entry in entries {
                    writer.pad(to: 8)
                    try writer.write(entry.key, as: key)
                    try writer.write(entry.value, as: valueType)
                }
            }
        case (.structure(let fieldTypes), .structure(let fields)):
            guard fieldTypes.count == fields.count else { throw .mismatch(expected: type.signature, got: value.signature) }
            pad(to: 8)
            for (field, fieldType) in zip(fields, fieldTypes) { try write(field, as: fieldType) }
        case (.variant, .variant(let inner)):
            let innerType = try DBusType.parseSingle(inner.signature)
            try write(.signature(inner.signature), as: .basic("g"))
            try write(inner, as: innerType)
        default:
            throw .mismatch(expected: type.signature, got: value.signature)
        }
    }

    private mutating func writeArray(
        elementAlignment: Int, _ elements: (inout DBusWriter) throws(DBusWireError) -> Void
    ) throws(DBusWireError) {
        pad(to: 4)
        let lengthAt = bytes.count
        append(UInt32(0))
        pad(to: elementAlignment)
        let start = bytes.count
        try elements(&self)
        let length = bytes.count - start
        guard length <= 1 << 26 else { throw .invalid("an array longer than 64 MiB") }
        withUnsafeBytes(of: UInt32(length).littleEndian) { raw in
            for (offset, byte) in raw.enumerated() { bytes[lengthAt + offset] = byte }
        }
    }
}

/// Reads values in either byte order, checking every length against what is there.
struct DBusReader {
    let bytes: [UInt8]
    let bigEndian: Bool
    /// Where alignment counts from: the first byte of the header or of the body.
    let base: Int
    var position: Int
    private var depth = 0

    init(bytes: [UInt8], bigEndian: Bool, from start: Int, end: Int? = nil) {
        self.bytes = end.map { Array(bytes[..<$0]) } ?? bytes
        self.bigEndian = bigEndian
        self.base = start
        self.position = start
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func align(_ alignment: Int) throws(DBusWireError) {
        let misalignment = (position - base) % alignment
        guard misalignment != 0 else { return }
        let next = position + alignment - misalignment
        guard next <= bytes.count else { throw .truncated("padding") }
        guard bytes[position..<next].allSatisfy({ $0 == 0 }) else { throw .invalid("non-zero padding") }
        position = next
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(DBusWireError) -> T {
        let size = MemoryLayout<T>.size
        try align(size)
        guard position + size <= bytes.count else { throw .truncated("a \(size)-byte integer") }
        var value: T = 0
        for offset in 0..<size {
            let byte = T(truncatingIfNeeded: bytes[position + (bigEndian ? offset : size - 1 - offset)])
            value = size == 1 ? byte : (value << 8) | byte
        }
        position += size
        return value
    }

    mutating func read(_ type: DBusType) throws(DBusWireError) -> DBusValue {
        switch type {
        case .basic(let code):
            return try readBasic(code)
        case .array(let element):
            return .array(element: element.signature, try readArray(alignment: element.alignment) { (reader: inout DBusReader) throws(DBusWireError) in
                try reader.read(element)
            })
        case .dictionary(let key, let value):
            let entries = try readArray(alignment: 8) { (reader: inout DBusReader) throws(DBusWireError) in
                try reader.align(8)
                return DBusValue.DictEntry(try reader.read(key), try reader.read(value))
            }
            return .dictionary(key: key.signature, value: value.signature, entries)
        case .structure(let fields):
            try align(8)
            var values: [DBusValue] = []
            for field in fields { values.append(try nested { (reader: inout DBusReader) throws(DBusWireError) in try reader.read(field) }) }
            return .structure(values)
        case .variant:
            guard case .signature(let signature) = try readBasic("g") else { throw .invalid("a variant without a signature") }
            let inner = try DBusType.parseSingle(signature)
            return .variant(try nested { (reader: inout DBusReader) throws(DBusWireError) in try reader.read(inner) })
        }
    }

    private mutating func readBasic(_ code: Character) throws(DBusWireError) -> DBusValue {
        switch code {
        case "y": return .byte(try integer(UInt8.self))
        case "b":
            let raw = try integer(UInt32.self)
            guard raw <= 1 else { throw .invalid("a boolean of \(raw)") }
            return .boolean(raw == 1)
        case "n": return .int16(try integer(Int16.self))
        case "q": return .uint16(try integer(UInt16.self))
        case "i": return .int32(try integer(Int32.self))
        case "u": return .uint32(try integer(UInt32.self))
        case "x": return .int64(try integer(Int64.self))
        case "t": return .uint64(try integer(UInt64.self))
        case "d": return .double(Double(bitPattern: try integer(UInt64.self)))
        case "s", "o":
            let length = Int(try integer(UInt32.self))
            let text = try text(length: length)
            return code == "s" ? .string(text) : .objectPath(text)
        case "g":
            let length = Int(try integer(UInt8.self))
            return .signature(try text(length: length))
        default:
            throw .invalid("basic type '\(code)'")
        }
    }

    private mutating func text(length: Int) throws(DBusWireError) -> String {
        guard length < bytes.count, position + length < bytes.count else { throw .truncated("a string") }
        let utf8 = bytes[position..<(position + length)]
        guard bytes[position + length] == 0 else { throw .invalid("a string without its NUL") }
        guard !utf8.contains(0), let text = String(validating: utf8, as: UTF8.self) else {
            throw .invalid("a string that is not UTF-8")
        }
        position += length + 1
        return text
    }

    private mutating func readArray<T>(
        alignment: Int, _ element: (inout DBusReader) throws(DBusWireError) -> T
    ) throws(DBusWireError) -> [T] {
        let length = Int(try integer(UInt32.self))
        guard length <= 1 << 26 else { throw .invalid("an array of \(length) bytes") }
        try align(alignment)
        let end = position + length
        guard end <= bytes.count else { throw .truncated("an array") }
        var items: [T] = []
        while position < end {
            items.append(try nested(element))
        }
        guard position == end else { throw .invalid("an array's elements overrun its length") }
        return items
    }

    private mutating func nested<T>(_ body: (inout DBusReader) throws(DBusWireError) -> T) throws(DBusWireError) -> T {
        guard depth < 64 else { throw .invalid("values nested deeper than 64") }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }
}
