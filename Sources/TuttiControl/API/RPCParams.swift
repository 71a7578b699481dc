/// A request's named parameters, read with typed getters that answer a missing or mistyped
/// parameter with -32602 (Invalid params) naming it.
public struct RPCParams: Sendable {
    public let members: [String: JSON]

    public init(_ params: JSON) throws(RPCError) {
        switch params {
        case .object(let members): self.members = members
        case .array(let values) where values.isEmpty: self.members = [:]
        default: throw .invalidParams("parameters must be named (a JSON object)")
        }
    }

    public func has(_ key: String) -> Bool { members[key] != nil && members[key] != .null }

    public func string(_ key: String) throws(RPCError) -> String {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard let string = value.stringValue else { throw .invalidParams("'\(key)' must be a string, not \(value.typeName)") }
        return string
    }

    public func optionalString(_ key: String) throws(RPCError) -> String? {
        has(key) ? try string(key) : nil
    }

    public func int(_ key: String) throws(RPCError) -> Int {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard let int = value.intValue else { throw .invalidParams("'\(key)' must be an integer, not \(value.typeName)") }
        return int
    }

    public func optionalInt(_ key: String) throws(RPCError) -> Int? {
        has(key) ? try int(key) : nil
    }

    /// A finite number (an integer or not).
    public func double(_ key: String) throws(RPCError) -> Double {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard let double = value.doubleValue, double.isFinite else { throw .invalidParams("'\(key)' must be a number, not \(value.typeName)") }
        return double
    }

    public func bool(_ key: String) throws(RPCError) -> Bool {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard let bool = value.boolValue else { throw .invalidParams("'\(key)' must be a boolean, not \(value.typeName)") }
        return bool
    }

    public func optionalBool(_ key: String) throws(RPCError) -> Bool? {
        has(key) ? try bool(key) : nil
    }

    public func object(_ key: String) throws(RPCError) -> RPCParams {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard case .object = value else { throw .invalidParams("'\(key)' must be an object, not \(value.typeName)") }
        return try RPCParams(value)
    }

    public func strings(_ key: String) throws(RPCError) -> [String] {
        guard let value = members[key] else { throw .invalidParams("'\(key)' is missing") }
        guard case .array(let values) = value else { throw .invalidParams("'\(key)' must be an array of strings, not \(value.typeName)") }
        var strings: [String] = []
        for element in values {
            guard let string = element.stringValue else { throw .invalidParams("'\(key)' must hold only strings") }
            strings.append(string)
        }
        return strings
    }
}
