/// A TOML 1.0 parser for the config file, written here: TOMLKit's C++ parser aborted the whole
/// process on some invalid files (failed assertions, in release builds too; found by
/// `Fuzz/run toml`) and leaked on every table. Everything TOML has is read except dates and
/// times, which no setting takes: they are refused by name. Every error says what and on which
/// line; nothing traps.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])

    /// What a user would call the type, for "has the wrong type" messages.
    public var kind: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

public enum TOML {
    /// Parses a document into its root table.
    public static func parse(_ text: String) throws(TOMLError) -> [String: TOMLValue] {
        var parser = TOMLParser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

/// A table while the document is read: TOML lets later lines add to tables opened earlier, but
/// not to inline tables or arrays, nor define one table twice.
private final class TableNode {
    enum Entry {
        case value(TOMLValue)
        case table(TableNode)
        case tables([TableNode])  // an array of tables, [[name]]
    }
    var entries: [String: Entry] = [:]
    var headerDefined = false  // by [name]
    var dottedDefined = false  // by a dotted key (a.b = 1 defines table a)

    var value: TOMLValue {
        .table(entries.mapValues { entry in
            switch entry {
            case .value(let value): value
            case .table(let table): table.value
            case .tables(let tables): .array(tables.map(\.value))
            }
        })
    }
}

private struct TOMLParser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    /// Arrays and inline tables open around the value being read: bounded, so that a file of
    /// "[[[[…" is an error rather than a stack overflow (found by the fuzzer).
    var nesting = 0
    static let maximumNesting = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }
    func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    // MARK: Document

    mutating func document() throws(TOMLError) -> [String: TOMLValue] {
        let root = TableNode()
        var table = root
        while true {
            skipBlanksCommentsAndNewlines()
            guard let c = current else { break }
            if c == UInt8(ascii: "[") {
                table = try header(root: root)
            } else {
                let key = try keyPath()
                try expect(UInt8(ascii: "="), "expected '=' after the key")
                skipBlanks()
                let value = try value()
                try assign(value, to: key, in: table)
            }
            try endOfLine()
        }
        guard case .table(let entries) = root.value else { return [:] }
        return entries
    }

    /// `[a.b]` or `[[a.b]]`: the table that the following keys go into.
    mutating func header(root: TableNode) throws(TOMLError) -> TableNode {
        index += 1
        let isArray = current == UInt8(ascii: "[")
        if isArray { index += 1 }
        skipBlanks()
        let path = try keyPath()
        try expect(UInt8(ascii: "]"), "expected ']' to end the table name")
        if isArray {
            guard current == UInt8(ascii: "]") else { throw fail("expected ']]' to end the table-array name\(found)") }
            index += 1
        }
        let name = path.joined(separator: ".")
        let parent = try walk(path.dropLast(), from: root)
        let last = path[path.count - 1]
        switch parent.entries[last] {
        case nil:
            let table = TableNode()
            table.headerDefined = true
            parent.entries[last] = isArray ? .tables([table]) : .table(table)
            return table
        case .table(let table) where !isArray:
            guard !table.headerDefined, !table.dottedDefined else { throw fail("table '\(name)' is defined twice") }
            table.headerDefined = true
            return table
        case .tables(var tables) where isArray:
            let table = TableNode()
            table.headerDefined = true
            tables.append(table)
            parent.entries[last] = .tables(tables)
            return table
        default:
            throw fail("'\(name)' is already defined as something else")
        }
    }

    /// Follows a key path through tables (the last of an array of tables), creating missing ones.
    func walk(_ path: ArraySlice<String>, from start: TableNode, dotted: Bool = false) throws(TOMLError) -> TableNode {
        var table = start
        for (offset, key) in path.enumerated() {
            let name = path.prefix(offset + 1).joined(separator: ".")
            switch table.entries[key] {
            case nil:
                let child = TableNode()
                child.dottedDefined = dotted
                table.entries[key] = .table(child)
                table = child
            case .table(let child):
                if dotted && child.headerDefined { throw fail("table '\(name)' cannot be extended here") }
                table = child
            case .tables(let tables):
                if dotted { throw fail("'\(name)' is an array of tables") }
                table = tables[tables.count - 1]
            case .value:
                throw fail("'\(name)' is a value, not a table")
            }
        }
        return table
    }

    func assign(_ value: TOMLValue, to path: [String], in table: TableNode) throws(TOMLError) {
        let parent = try walk(path.dropLast(), from: table, dotted: true)
        let last = path[path.count - 1]
        guard parent.entries[last] == nil else { throw fail("'\(path.joined(separator: "."))' is defined twice") }
        parent.entries[last] = .value(value)
    }

    // MARK: Keys

    mutating func keyPath() throws(TOMLError) -> [String] {
        var path = [try simpleKey()]
        skipBlanks()
        while current == UInt8(ascii: ".") {
            index += 1
            skipBlanks()
            path.append(try simpleKey())
            skipBlanks()
        }
        return path
    }

    mutating func simpleKey() throws(TOMLError) -> String {
        switch current {
        case UInt8(ascii: "\""):
            guard peek(1) != UInt8(ascii: "\"") || peek(2) != UInt8(ascii: "\"") else { throw fail("a key cannot be a multi-line string") }
            return try basicString()
        case UInt8(ascii: "'"):
            guard peek(1) != UInt8(ascii: "'") || peek(2) != UInt8(ascii: "'") else { throw fail("a key cannot be a multi-line string") }
            return try literalString()
        default:
            let start = index
            while let c = current, isBareKey(c) { index += 1 }
            guard index > start else { throw fail("expected a key (letters, digits, '_', '-', or a quoted string)\(found)") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }

    func isBareKey(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || isDigit(c)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// ", found 'x'" for an error message, or ", found the end of the file".
    var found: String {
        guard let c = current else { return ", found the end of the file" }
        if c == UInt8(ascii: "\n") { return ", found the end of the line" }
        if c < 0x20 || c == 0x7F { return ", found control character \(hex(UInt32(c)))" }
        if c >= 0x80 { return ", found a non-ASCII character" }
        return ", found '\(Character(Unicode.Scalar(c)))'"
    }

    // MARK: Values

    mutating func value() throws(TOMLError) -> TOMLValue {
        switch current {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { return .string(try multilineString(literal: false)) }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { return .string(try multilineString(literal: true)) }
            return .string(try literalString())
        case UInt8(ascii: "["):
            return try array()
        case UInt8(ascii: "{"):
            return try inlineTable()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if matches("true") { index += 4; return .bool(true) }
            if matches("false") { index += 5; return .bool(false) }
            throw fail("expected a value\(found)")
        default:
            return try number()
        }
    }

    func matches(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else { return false }
        if let after = peek(utf8.count), isBareKey(after) { return false }
        return true
    }

    mutating func array() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { nesting -= 1 }
        index += 1
        var elements: [TOMLValue] = []
        while true {
            skipBlanksCommentsAndNewlines()
            if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
            elements.append(try value())
            skipBlanksCommentsAndNewlines()
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw fail("expected ',' or ']' in the array\(found)")
            }
        }
    }

    mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { nesting -= 1 }
        index += 1
        let table = TableNode()
        skipBlanks()
        if current == UInt8(ascii: "}") {
            index += 1
            return table.value
        }
        while true {
            skipBlanks()
            let key = try keyPath()
            try expect(UInt8(ascii: "="), "expected '=' after the key")
            skipBlanks()
            try assign(try value(), to: key, in: table)
            skipBlanks()
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "}") {
                index += 1
                return table.value
            } else {
                throw fail("expected ',' or '}' in the inline table\(found)")
            }
        }
    }

    mutating func enter() throws(TOMLError) {
        guard nesting < Self.maximumNesting else { throw fail("arrays and inline tables nested more than \(Self.maximumNesting) deep") }
        nesting += 1
    }

    // MARK: Strings

    mutating func basicString() throws(TOMLError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        while true {
            guard let c = current, c != UInt8(ascii: "\n") else { throw fail("unterminated string") }
            if c == UInt8(ascii: "\"") { index += 1; return String(scalars) }
            if c == UInt8(ascii: "\\") {
                scalars.append(try escape())
            } else {
                scalars.append(contentsOf: try character(allowingNewline: false).unicodeScalars)
            }
        }
    }

    mutating func literalString() throws(TOMLError) -> String {
        index += 1
        var text = ""
        while true {
            guard let c = current, c != UInt8(ascii: "\n") else { throw fail("unterminated string") }
            if c == UInt8(ascii: "'") { index += 1; return text }
            text += try character(allowingNewline: false)
        }
    }

    mutating func multilineString(literal: Bool) throws(TOMLError) -> String {
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        index += 3
        // A newline right after the opening delimiter is not part of the string.
        if current == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { index += 1 }
        if current == UInt8(ascii: "\n") { index += 1; line += 1 }
        var text = ""
        while true {
            guard let c = current else { throw fail("unterminated multi-line string") }
            if c == quote, peek(1) == quote, peek(2) == quote {
                // Up to two more quotes just before the closing delimiter belong to the string.
                var run = 3
                while peek(run) == quote, run < 5 { run += 1 }
                text += String(repeating: Character(Unicode.Scalar(quote)), count: run - 3)
                index += run
                return text
            }
            if !literal && c == UInt8(ascii: "\\") {
                // A backslash at the end of a line joins it to the next non-blank text.
                var ahead = 1
                while peek(ahead) == UInt8(ascii: " ") || peek(ahead) == UInt8(ascii: "\t") { ahead += 1 }
                if peek(ahead) == UInt8(ascii: "\r") { ahead += 1 }
                if peek(ahead) == UInt8(ascii: "\n") {
                    index += ahead
                    while let next = current, next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") {
                        if next == UInt8(ascii: "\n") { line += 1 }
                        index += 1
                    }
                    continue
                }
                text.unicodeScalars.append(try escape())
                continue
            }
            text += try character(allowingNewline: true)
        }
    }

    /// One character of a string or comment: UTF-8 decoded; control characters but tab (and
    /// line ends where allowed) are errors.
    mutating func character(allowingNewline: Bool) throws(TOMLError) -> String {
        guard let c = current else { throw fail("unexpected end of the file") }
        if c == UInt8(ascii: "\n") {
            guard allowingNewline else { throw fail("unterminated string") }
            index += 1
            line += 1
            return "\n"
        }
        if c == UInt8(ascii: "\r"), allowingNewline, peek(1) == UInt8(ascii: "\n") {
            index += 2
            line += 1
            return "\n"
        }
        if (c < 0x20 && c != UInt8(ascii: "\t")) || c == 0x7F { throw fail("control character \(hex(UInt32(c))) is not allowed here") }
        if c < 0x80 {
            index += 1
            return String(Unicode.Scalar(c))
        }
        let length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2
        guard c >= 0xC2, c <= 0xF4, index + length <= bytes.count else { throw fail("invalid UTF-8") }
        let sequence = bytes[index..<index + length]
        var decoded = String.UnicodeScalarView()
        var iterator = sequence.makeIterator()
        var utf8 = UTF8()
        guard case .scalarValue(let scalar) = utf8.decode(&iterator) else { throw fail("invalid UTF-8") }
        decoded.append(scalar)
        index += length
        return String(decoded)
    }

    mutating func escape() throws(TOMLError) -> Unicode.Scalar {
        index += 1
        guard let c = current else { throw fail("unterminated string") }
        index += 1
        switch c {
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digits = c == UInt8(ascii: "u") ? 4 : 8
            guard index + digits <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + digits], as: UTF8.self), radix: 16),
                bytes[index..<index + digits].allSatisfy(isHexDigit), let scalar = Unicode.Scalar(value)
            else { throw fail("invalid \\\(Character(Unicode.Scalar(c))) escape") }
            index += digits
            return scalar
        default:
            index -= 1
            throw fail("invalid escape '\\\(c < 0x80 && c >= 0x20 ? String(Character(Unicode.Scalar(c))) : "?")'")
        }
    }

    // MARK: Numbers

    mutating func number() throws(TOMLError) -> TOMLValue {
        let start = index
        // Everything a number, a date or a time can hold ('+' also in an exponent: 1e+5).
        while let c = current, isBareKey(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") { index += 1 }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !token.isEmpty else { throw fail("expected a value\(found)") }
        let unsigned = token.hasPrefix("+") || token.hasPrefix("-") ? String(token.dropFirst()) : token
        if unsigned == "inf" || unsigned == "nan" {
            let value = unsigned == "inf" ? Double.infinity : Double.nan
            return .float(token.hasPrefix("-") ? -value : value)
        }
        if token.count >= 5, token.utf8.prefix(4).allSatisfy(isDigit), token.utf8.dropFirst(4).first == UInt8(ascii: "-") {
            throw fail("dates are not used by any setting")
        }
        if token.contains(":") { throw fail("times are not used by any setting") }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            let digits = token.dropFirst(2)
            guard validUnderscores(digits), let value = Int(String(digits.filter { $0 != "_" }), radix: radix) else {
                throw fail("'\(token)' is not a valid number")
            }
            return .integer(value)
        }
        guard validUnderscores(Substring(unsigned)), let first = unsigned.utf8.first, isDigit(first) else {
            throw fail("'\(token)' is not a valid value")
        }
        let plain = String(unsigned.filter { $0 != "_" })
        if plain.utf8.allSatisfy(isDigit) {
            guard plain == "0" || !plain.hasPrefix("0") else { throw fail("'\(token)' has a leading zero") }
            guard let value = Int(token.hasPrefix("-") ? "-" + plain : plain) else { throw fail("'\(token)' does not fit a 64-bit integer") }
            return .integer(value)
        }
        // A float: digits, then a fraction, an exponent or both; each part starts with a digit.
        let parts = plain.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false).flatMap { $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false) }
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let exponent = parts.count > 1 ? parts[1] : nil
        let integerPart = mantissa[0]
        guard mantissa.count <= 2, parts.count <= 2, !integerPart.isEmpty, integerPart.utf8.allSatisfy(isDigit),
            integerPart == "0" || !integerPart.hasPrefix("0"),
            mantissa.count == 1 || (!mantissa[1].isEmpty && mantissa[1].utf8.allSatisfy(isDigit)),
            mantissa.count == 2 || exponent != nil,
            exponent.map({ e in
                let digits = e.hasPrefix("+") || e.hasPrefix("-") ? e.dropFirst() : e[...]
                return !digits.isEmpty && digits.utf8.allSatisfy(isDigit)
            }) ?? true,
            let value = Double(token.hasPrefix("-") ? "-" + plain : plain)
        else { throw fail("'\(token)' is not a valid value") }
        return .float(value)
    }

    /// Underscores only between two digits.
    func validUnderscores(_ text: Substring) -> Bool {
        let utf8 = Array(text.utf8)
        for (offset, c) in utf8.enumerated() where c == UInt8(ascii: "_") {
            guard offset > 0, offset + 1 < utf8.count, isHexDigit(utf8[offset - 1]), isHexDigit(utf8[offset + 1]) else { return false }
        }
        return true
    }

    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    // MARK: Blanks, comments, line ends

    mutating func skipBlanks() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { index += 1 }
    }

    /// Blanks, comments and line ends, as between array elements and between lines.
    mutating func skipBlanksCommentsAndNewlines() {
        while let c = current {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
                index += 1
            } else if c == UInt8(ascii: "\n") {
                index += 1
                line += 1
            } else if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
                index += 1
            } else if c == UInt8(ascii: "#") {
                // A comment's characters are checked when its line ends (endOfLine) or here.
                guard (try? comment()) != nil else { return }
            } else {
                return
            }
        }
    }

    mutating func comment() throws(TOMLError) {
        index += 1
        while let c = current, c != UInt8(ascii: "\n") {
            if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { index += 1; continue }
            _ = try character(allowingNewline: false)
        }
    }

    /// After a key/value pair or a header: blanks, a comment, then a line end or the file's end.
    mutating func endOfLine() throws(TOMLError) {
        skipBlanks()
        if current == UInt8(ascii: "#") { try comment() }
        if current == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { index += 1 }
        guard let c = current else { return }
        guard c == UInt8(ascii: "\n") else { throw fail("expected the end of the line\(found)") }
        index += 1
        line += 1
    }

    mutating func expect(_ byte: UInt8, _ message: String) throws(TOMLError) {
        skipBlanks()
        guard current == byte else { throw fail(message + found) }
        index += 1
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
