import NIOCore

/// Who may use the control API without a token: loopback always, and the networks listed in
/// the configuration's `trusted_networks` — as with Snapcast, so Home Assistant on the same
/// LAN keeps working. Everyone else must present the server's token.
struct AccessPolicy: Sendable {
    let token: String
    let trustedNetworks: [NetworkRange]

    init(token: String, trustedNetworks: [NetworkRange], trustLoopback: Bool = true) {
        self.token = token
        self.trustedNetworks = (trustLoopback ? NetworkRange.loopback : []) + trustedNetworks
    }

    /// Whether a peer at this address may call without a token.
    func isTrusted(_ address: SocketAddress?) -> Bool {
        guard let bytes = address.flatMap(NetworkRange.addressBytes) else { return false }
        return trustedNetworks.contains { $0.contains(bytes) }
    }

    /// Compares a presented token in constant time.
    func accepts(_ presented: String) -> Bool {
        let a = Array(token.utf8)
        let b = Array(presented.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// An IPv4 or IPv6 network in CIDR form (`192.168.1.0/24`, `fd00::/8`, or one address).
/// IPv4 addresses are compared in their IPv4-mapped IPv6 form, so `10.0.0.0/8` also matches
/// `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket).
struct NetworkRange: Sendable, Equatable, CustomStringConvertible {
    /// 16 bytes (IPv4 mapped into IPv6).
    let bytes: [UInt8]
    /// Prefix length in bits over the 16 bytes.
    let prefix: Int
    let description: String

    static let loopback = [try! NetworkRange(parsing: "127.0.0.0/8"), try! NetworkRange(parsing: "::1/128")]

    /// Parses `ADDRESS[/PREFIX]`; throws a message naming what was wrong.
    init(parsing text: String) throws(ConfigurationProblem) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = try? SocketAddress(ipAddress: first, port: 0),
            let bytes = Self.addressBytes(address)
        else { throw ConfigurationProblem("trusted network '\(text)' is not an IP address or CIDR range") }
        let isV4: Bool = if case .v4 = address { true } else { false }
        let maximum = isV4 ? 32 : 128
        var prefix = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else {
                throw ConfigurationProblem("trusted network '\(text)' has a prefix outside 0...\(maximum)")
            }
            prefix = value
        }
        self.bytes = bytes
        self.prefix = isV4 ? prefix + 96 : prefix
        self.description = text
    }

    func contains(_ address: [UInt8]) -> Bool {
        var remaining = prefix
        for index in 0..<16 where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The address as 16 bytes, IPv4 mapped into IPv6; nil for Unix sockets.
    static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default:
            return nil
        }
    }
}

/// A configuration value that parses but cannot be used.
struct ConfigurationProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
