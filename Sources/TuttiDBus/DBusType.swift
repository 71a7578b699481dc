/// A parsed D-Bus type: what a signature says, one complete type at a time.
public indirect enum DBusType: Sendable, Hashable {
    /// One of `ybnqiuxtdsog`.
    case basic(Character)
    case array(DBusType)
    case dictionary(key: DBusType, value: DBusType)
    case structure([DBusType])
    case variant

    /// The alignment of the type's values on the wire, in bytes.
    var alignment: Int {
        switch self {
        case .basic(let code):
            switch code {
            case "y", "g": 1
            case "n", "q": 2
            case "x", "t", "d": 8
            default: 4  // b i u s o
            }
        case .array: 4
        case .dictionary: 4
        case .structure: 8
        case .variant: 1
        }
    }

    var signature: String {
        switch self {
        case .basic(let code): String(code)
        case .array(let element): "a" + element.signature
        case .dictionary(let key, let value): "a{" + key.signature + value.signature + "}"
        case .structure(let fields): "(" + fields.map(\.signature).joined() + ")"
        case .variant: "v"
        }
    }

    /// Parses a signature into its complete types: "sa{sv}" → [s, a{sv}].
    ///
    /// Throws on anything the specification forbids: unknown codes, unbalanced brackets, a dict
    /// entry outside an array or with a container key, empty structs, more than 255 bytes, or
    /// nesting deeper than 32 arrays or 32 structs.
    public static func parse(_ signature: String) throws(DBusWireError) -> [DBusType] {
        let codes = Array(signature.utf8)
        guard codes.count <= 255 else { throw .badSignature(signature, "longer than 255 bytes") }
        var parser = SignatureParser(codes: codes, text: signature)
        var types: [DBusType] = []
        while parser.index < codes.count { types.append(try parser.completeType(arrays: 0, structs: 0)) }
        return types
    }

    /// Parses a signature that must be exactly one complete type (a variant's, an array's element).
    static func parseSingle(_ signature: String) throws(DBusWireError) -> DBusType {
        let types = try parse(signature)
        guard types.count == 1 else { throw .badSignature(signature, "not a single complete type") }
        return types[0]
    }
}

private struct SignatureParser {
    let codes: [UInt8]
    let text: String
    var index = 0

    mutating func completeType(arrays: Int, structs: Int) throws(DBusWireError) -> DBusType {
        guard index < codes.count else { throw .badSignature(text, "ends inside a type") }
        let code = Character(UnicodeScalar(codes[index]))
        index += 1
        switch code {
        case "y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g":
            return .basic(code)
        case "v":
            return .variant
        case "a":
            guard arrays < 32 else { throw .badSignature(text, "arrays nested deeper than 32") }
            if index < codes.count, codes[index] == UInt8(ascii: "{") {
                index += 1
                let key = try completeType(arrays: arrays + 1, structs: structs + 1)
                guard case .basic = key else { throw .badSignature(text, "a dictionary key must be a basic type") }
                let value = try completeType(arrays: arrays + 1, structs: structs + 1)
                guard index < codes.count, codes[index] == UInt8(ascii: "}") else {
                    throw .badSignature(text, "a dictionary entry holds exactly a key and a value")
                }
                index += 1
                return .dictionary(key: key, value: value)
            }
            return .array(try completeType(arrays: arrays + 1, structs: structs))
        case "(":
            guard structs < 32 else { throw .badSignature(text, "structs nested deeper than 32") }
            var fields: [DBusType] = []
            while index < codes.count, codes[index] != UInt8(ascii: ")") {
                fields.append(try completeType(arrays: arrays, structs: structs + 1))
            }
            guard index < codes.count else { throw .badSignature(text, "a struct is not closed") }
            guard !fields.isEmpty else { throw .badSignature(text, "an empty struct") }
            index += 1
            return .structure(fields)
        default:
            throw .badSignature(text, "unexpected '\(code)'")
        }
    }
}
