import NIOCore

/// Hello (type 5): the first message a client sends, describing itself. JSON in a string.
///
/// Keys a 0.26 snapclient sends: MAC, HostName, Version, ClientName, OS, Arch, Instance, ID,
/// SnapStreamProtocolVersion. Missing keys decode to the defaults below; an empty `id` means
/// "use the MAC", as Snapcast does.
public struct Hello: Hashable, Sendable {
    public var mac: String
    public var hostName: String
    public var version: String
    public var clientName: String
    public var os: String
    public var arch: String
    public var instance: Int
    public var id: String
    public var protocolVersion: Int
    /// Tutti's extensions the client understands (`channel`, `status`); sent only by Tutti
    /// speakers, under a key Snapcast's servers ignore. Empty for snapclient.
    public var capabilities: [String]

    public init(
        mac: String = "00:00:00:00:00:00", hostName: String = "", version: String = "0.26.0",
        clientName: String = "Snapclient", os: String = "Linux", arch: String = "x86_64",
        instance: Int = 1, id: String = "", protocolVersion: Int = 2, capabilities: [String] = []
    ) {
        self.mac = mac
        self.hostName = hostName
        self.version = version
        self.clientName = clientName
        self.os = os
        self.arch = arch
        self.instance = instance
        self.id = id
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
    }

    /// The client's identity as Snapcast forms it: `id` if given, otherwise the MAC, plus
    /// `#instance` when the instance is not 1 (so several clients on one host stay distinct).
    public var clientID: String {
        let base = id.isEmpty ? mac : id
        return instance == 1 ? base : "\(base)#\(instance)"
    }

    private struct JSON: Codable {
        var MAC: String?
        var HostName: String?
        var Version: String?
        var ClientName: String?
        var OS: String?
        var Arch: String?
        var Instance: Int?
        var ID: String?
        var SnapStreamProtocolVersion: Int?
        var TuttiCapabilities: [String]?
    }

    static func decode(from payload: inout ByteBuffer) throws(WireError) -> Hello {
        let text = try payload.readSnapString(field: "Hello")
        let json = try decodeJSONPayload(JSON.self, from: text, message: "Hello")
        let defaults = Hello()
        return Hello(
            mac: json.MAC ?? defaults.mac, hostName: json.HostName ?? "", version: json.Version ?? "",
            clientName: json.ClientName ?? "", os: json.OS ?? "", arch: json.Arch ?? "",
            instance: json.Instance ?? 1, id: json.ID ?? "", protocolVersion: json.SnapStreamProtocolVersion ?? 2,
            capabilities: json.TuttiCapabilities ?? []
        )
    }

    func encode(into buffer: inout ByteBuffer) {
        let json = JSON(
            MAC: mac, HostName: hostName, Version: version, ClientName: clientName, OS: os, Arch: arch,
            Instance: instance, ID: id, SnapStreamProtocolVersion: protocolVersion,
            TuttiCapabilities: capabilities.isEmpty ? nil : capabilities
        )
        buffer.writeSnapString(encodeJSONPayload(json))
    }
}
