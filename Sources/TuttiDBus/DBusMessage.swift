/// One D-Bus message: a method call, its return or error, or a signal.
public struct DBusMessage: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case methodCall = 1, methodReturn = 2, error = 3, signal = 4
    }

    public var kind: Kind
    public var flags: UInt8 = 0
    public var serial: UInt32 = 0
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var body: [DBusValue] = []

    /// Flag: the caller wants no reply.
    public static let noReplyExpected: UInt8 = 0x1

    public init(kind: Kind, path: String? = nil, interface: String? = nil, member: String? = nil, destination: String? = nil, body: [DBusValue] = []) {
        self.kind = kind
        self.path = path
        self.interface = interface
        self.member = member
        self.destination = destination
        self.body = body
    }

    public var bodySignature: String { body.map(\.signature).joined() }

    /// A body's first value as a string: an error's message, by convention.
    public var firstString: String? { body.first?.string }

    /// The largest message the specification allows (128 MiB); larger is a protocol error.
    static let maximumLength = 1 << 27

    // MARK: Encoding

    public func encoded() throws(DBusWireError) -> [UInt8] {
        var bodyWriter = DBusWriter()
        for value in body { try bodyWriter.write(value, as: try DBusType.parseSingle(value.signature)) }

        var fields: [DBusValue] = []
        func field(_ code: UInt8, _ value: DBusValue?) {
            if let value { fields.append(.structure([.byte(code), .variant(value)])) }
        }
        field(1, path.map(DBusValue.objectPath))
        field(2, interface.map(DBusValue.string))
        field(3, member.map(DBusValue.string))
        field(4, errorName.map(DBusValue.string))
        field(5, replySerial.map(DBusValue.uint32))
        field(6, destination.map(DBusValue.string))
        field(7, sender.map(DBusValue.string))
        if !body.isEmpty { field(8, .signature(bodySignature)) }

        var header = DBusWriter()
        header.bytes = [UInt8(ascii: "l"), kind.rawValue, flags, 1]
        header.append(UInt32(bodyWriter.bytes.count))
        header.append(serial)
        try header.write(.array(element: "(yv)", fields), as: .array(.structure([.basic("y"), .variant])))
        header.pad(to: 8)
        let message = header.bytes + bodyWriter.bytes
        guard message.count <= Self.maximumLength else { throw .invalid("a message of \(message.count) bytes") }
        return message
    }

    // MARK: Decoding

    /// How many bytes the message at the start of `bytes` takes, once its first 16 are there;
    /// nil if fewer are there. Throws when the lengths are impossible.
    public static func length(ofMessageStartingIn bytes: ArraySlice<UInt8>) throws(DBusWireError) -> Int? {
        guard bytes.count >= 16 else { return nil }
        var reader = DBusReader(bytes: Array(bytes.prefix(16)), bigEndian: try bigEndian(bytes.first!), from: 0)
        reader.position = 4
        let bodyLength = Int(try reader.integer(UInt32.self))
        _ = try reader.integer(UInt32.self)
        let fieldsLength = Int(try reader.integer(UInt32.self))
        guard bodyLength <= maximumLength, fieldsLength <= maximumLength else { throw .invalid("a message longer than 128 MiB") }
        let headerLength = (16 + fieldsLength + 7) / 8 * 8
        let total = headerLength + bodyLength
        guard total <= maximumLength else { throw .invalid("a message of \(total) bytes") }
        return total
    }

    private static func bigEndian(_ marker: UInt8) throws(DBusWireError) -> Bool {
        switch marker {
        case UInt8(ascii: "l"): false
        case UInt8(ascii: "B"): true
        default: throw .invalid("byte-order mark \(marker)")
        }
    }

    /// Decodes one whole message (exactly `bytes`, as `length(ofMessageStartingIn:)` measured).
    public init(decoding bytes: [UInt8]) throws(DBusWireError) {
        guard bytes.count >= 16 else { throw .truncated("the fixed header") }
        let bigEndian = try Self.bigEndian(bytes[0])
        guard let kind = Kind(rawValue: bytes[1]) else { throw .invalid("message type \(bytes[1])") }
        guard bytes[3] == 1 else { throw .invalid("protocol version \(bytes[3])") }
        var reader = DBusReader(bytes: bytes, bigEndian: bigEndian, from: 0)
        reader.position = 4
        let bodyLength = Int(try reader.integer(UInt32.self))
        let serial = try reader.integer(UInt32.self)
        guard serial != 0 else { throw .invalid("serial 0") }
        guard case .array(_, let fields) = try reader.read(.array(.structure([.basic("y"), .variant]))) else {
            throw .invalid("header fields")
        }
        try reader.align(8)
        guard reader.position + bodyLength == bytes.count else { throw .invalid("the body length does not match the message") }

        self.init(kind: kind)
        self.flags = bytes[2]
        self.serial = serial
        var signature = ""
        for case .structure(let pair) in fields {
            guard pair.count == 2, case .byte(let code) = pair[0], case .variant(let value) = pair[1] else { continue }
            switch (code, value) {
            case (1, .objectPath(let v)): path = v
            case (2, .string(let v)): interface = v
            case (3, .string(let v)): member = v
            case (4, .string(let v)): errorName = v
            case (5, .uint32(let v)): replySerial = v
            case (6, .string(let v)): destination = v
            case (7, .string(let v)): sender = v
            case (8, .signature(let v)): signature = v
            case (1...9, _): throw .invalid("header field \(code) of type '\(value.signature)'")
            default: continue  // unknown fields are ignored, as the specification says
            }
        }
        switch kind {
        case .methodCall: guard path != nil, member != nil else { throw .invalid("a method call without path or member") }
        case .signal: guard path != nil, member != nil, interface != nil else { throw .invalid("a signal without path, interface or member") }
        case .error: guard errorName != nil, replySerial != nil else { throw .invalid("an error without name or reply serial") }
        case .methodReturn: guard replySerial != nil else { throw .invalid("a return without reply serial") }
        }
        var bodyReader = DBusReader(bytes: bytes, bigEndian: bigEndian, from: reader.position)
        for type in try DBusType.parse(signature) { body.append(try bodyReader.read(type)) }
        guard bodyReader.atEnd else { throw .invalid("bytes after the body's values") }
    }
}
