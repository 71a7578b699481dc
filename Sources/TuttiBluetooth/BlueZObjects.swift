import Foundation
import TuttiDBus

/// An adapter as Tutti reports it.
public struct BluetoothAdapter: Sendable, Equatable, Codable {
    /// "hci0".
    public var name: String
    public var address: String
    public var alias: String
    public var powered: Bool
    public var discovering: Bool
    /// How many speakers it plays to well at once (the practical A2DP stream limit).
    public var limit: Int
    /// Addresses of the audio speakers connected through it.
    public var connected: [String]
    /// BlueZ's version ("5.66"), from the adapter's Modalias (BlueZ sets its own device ID,
    /// `usb:v1D6Bp0246dMMmm`); nil when the adapter reports another.
    public var bluezVersion: String? = nil
    /// Adapter1.Roles (LE): "central", "peripheral", …
    public var roles: [String] = []
    /// Whether it can send audio to speakers (BlueZ registered the A2DP source role on it).
    public var canSend: Bool = false
    /// Whether it can take a phone's audio (the A2DP sink role is registered: a sound server
    /// offers it).
    public var canReceive: Bool = false
    /// Whether phones can find it (Adapter1.Discoverable): Tutti makes an adapter discoverable
    /// only in receive mode.
    public var discoverable: Bool = false
    /// Receive mode: it can take a phone's audio and phones can find it.
    public var receiving: Bool { canReceive && discoverable && powered }
}

/// A Bluetooth device BlueZ knows: paired, or seen in a scan.
public struct BluetoothDevice: Sendable, Equatable, Codable {
    public var address: String
    public var name: String
    /// The adapter it is (or would be) reached through: "hci0".
    public var adapter: String
    public var paired: Bool
    public var trusted: Bool
    public var connected: Bool
    /// Whether it takes audio (an A2DP sink): a speaker or headphones.
    public var isSpeaker: Bool
    /// Whether it sends audio (an A2DP source) and takes none: a phone, a tablet, a laptop.
    public var isPhone: Bool = false
    /// Signal strength in the last scan, dBm.
    public var rssi: Int?
    /// The codec its audio stream uses while connected: SBC, AAC, aptX/LDAC (vendor), …
    public var codec: String?
    /// The delay the speaker itself reports (AVDTP delay reporting), ms; nil if it reports none.
    public var reportedDelayMs: Double?
}

/// What BlueZ has on the bus — every object's interfaces and properties — kept current from
/// `GetManagedObjects` and the InterfacesAdded/Removed and PropertiesChanged signals. Pure: it
/// reads messages and answers questions, and does no I/O.
struct BlueZObjects: Sendable {
    static let audioSinkUUID = "0000110b-0000-1000-8000-00805f9b34fb"
    static let audioSourceUUID = "0000110a-0000-1000-8000-00805f9b34fb"

    /// BlueZ's version from a Modalias naming BlueZ's own device ID (vendor 0x1D6B, the Linux
    /// Foundation; product 0x0246, BlueZ): `usb:v1D6Bp0246d0542` is 5.66.
    static func bluezVersion(modalias: String?) -> String? {
        guard let modalias = modalias?.lowercased(), let product = modalias.range(of: "v1d6bp0246d"),
              let code = Int(modalias[product.upperBound...].prefix(4), radix: 16) else { return nil }
        return "\(code >> 8).\(code & 0xff)"
    }

    /// path → interface → property → value.
    private(set) var objects: [String: [String: [String: DBusValue]]] = [:]

    init() {}

    /// Loads the reply of ObjectManager.GetManagedObjects (`a{oa{sa{sv}}}`).
    init(managedObjects: DBusValue) {
        guard case .dictionary(_, _, let entries) = managedObjects.unwrapped else { return }
        for entry in entries {
            guard let path = entry.key.string, case .dictionary(_, _, let interfaces) = entry.value else { continue }
            for interface in interfaces {
                if let name = interface.key.string { objects[path, default: [:]][name] = interface.value.stringDictionary ?? [:] }
            }
        }
    }

    /// Applies a signal from BlueZ; other signals change nothing. Returns whether anything changed.
    @discardableResult
    mutating func apply(_ signal: DBusMessage) -> Bool {
        guard signal.kind == .signal, let path = signal.path else { return false }
        switch (signal.interface, signal.member) {
        case ("org.freedesktop.DBus.ObjectManager", "InterfacesAdded"):
            guard signal.body.count == 2, let object = signal.body[0].string, case .dictionary(_, _, let interfaces) = signal.body[1] else { return false }
            for interface in interfaces {
                if let name = interface.key.string { objects[object, default: [:]][name] = interface.value.stringDictionary ?? [:] }
            }
            return true
        case ("org.freedesktop.DBus.ObjectManager", "InterfacesRemoved"):
            guard signal.body.count == 2, let object = signal.body[0].string, let names = signal.body[1].array else { return false }
            for name in names.compactMap(\.string) { objects[object]?[name] = nil }
            if objects[object]?.isEmpty == true { objects[object] = nil }
            return true
        case ("org.freedesktop.DBus.Properties", "PropertiesChanged"):
            guard signal.body.count >= 2, let interface = signal.body[0].string, let changed = signal.body[1].stringDictionary,
                  objects[path]?[interface] != nil else { return false }
            for (key, value) in changed { objects[path]?[interface]?[key] = value }
            if signal.body.count > 2, let invalidated = signal.body[2].array {
                for key in invalidated.compactMap(\.string) { objects[path]?[interface]?[key] = nil }
            }
            return true
        default:
            return false
        }
    }

    /// Sets one property as BlueZ would report it (after a call whose signal may come later).
    mutating func set(_ path: String, _ interface: String, _ key: String, _ value: DBusValue) {
        guard objects[path]?[interface] != nil else { return }
        objects[path]?[interface]?[key] = value
    }

    // MARK: Questions

    func adapters(limits: (String) -> Int) -> [BluetoothAdapter] {
        let devices = self.devices
        return objects.keys.sorted().compactMap { path in
            guard let properties = objects[path]?["org.bluez.Adapter1"] else { return nil }
            let name = String(path.split(separator: "/").last ?? "")
            let uuids = properties["UUIDs"]?.array?.compactMap(\.string).map { $0.lowercased() } ?? []
            return BluetoothAdapter(
                name: name, address: properties["Address"]?.string ?? "", alias: properties["Alias"]?.string ?? name,
                powered: properties["Powered"]?.bool ?? false, discovering: properties["Discovering"]?.bool ?? false,
                limit: limits(name), connected: devices.filter { $0.adapter == name && $0.connected && $0.isSpeaker }.map(\.address),
                bluezVersion: Self.bluezVersion(modalias: properties["Modalias"]?.string),
                roles: properties["Roles"]?.array?.compactMap(\.string) ?? [],
                canSend: uuids.contains(Self.audioSourceUUID), canReceive: uuids.contains(Self.audioSinkUUID),
                discoverable: properties["Discoverable"]?.bool ?? false)
        }
    }

    var devices: [BluetoothDevice] {
        var transports: [String: [String: DBusValue]] = [:]
        for (_, interfaces) in objects {
            if let transport = interfaces["org.bluez.MediaTransport1"], let device = transport["Device"]?.string { transports[device] = transport }
        }
        return objects.keys.sorted().compactMap { path in
            guard let properties = objects[path]?["org.bluez.Device1"], let address = properties["Address"]?.string else { return nil }
            let uuids = properties["UUIDs"]?.array?.compactMap(\.string).map { $0.lowercased() } ?? []
            let adapter = properties["Adapter"]?.string.map { String($0.split(separator: "/").last ?? "") } ?? ""
            let transport = transports[path]
            let name: String = properties["Alias"]?.string ?? properties["Name"]?.string ?? address
            let sink = uuids.contains(Self.audioSinkUUID)
            let source = uuids.contains(Self.audioSourceUUID)
            let codec: String? = transport?["Codec"]?.int.map(Self.codecName)
            let delay: Double? = transport?["Delay"]?.int.map { Double($0) / 10 }
            return BluetoothDevice(
                address: address, name: name, adapter: adapter,
                paired: properties["Paired"]?.bool ?? false, trusted: properties["Trusted"]?.bool ?? false,
                connected: properties["Connected"]?.bool ?? false, isSpeaker: sink, isPhone: source && !sink,
                rssi: properties["RSSI"]?.int, codec: codec, reportedDelayMs: delay)
        }
    }

    /// The object path of the device with this address (any case, `:` or `_`).
    func devicePath(of address: String) -> String? {
        let wanted = Self.normalized(address)
        return objects.keys.sorted().first { path in
            guard let found = objects[path]?["org.bluez.Device1"]?["Address"]?.string else { return false }
            return Self.normalized(found) == wanted
        }
    }

    func adapterPath(named name: String) -> String? {
        objects.keys.sorted().first { $0.hasSuffix("/" + name) && objects[$0]?["org.bluez.Adapter1"] != nil }
    }

    static func normalized(_ address: String) -> String {
        address.uppercased().replacingOccurrences(of: "_", with: ":")
    }

    /// A2DP codec IDs (A2DP specification): 0 SBC, 1 MPEG-1/2 (MP3), 2 MPEG-2/4 (AAC), 4 ATRAC,
    /// 0xFF vendor-specific (aptX, LDAC and others, told apart by a vendor ID BlueZ does not expose here).
    static func codecName(_ id: Int) -> String {
        switch id {
        case 0: "SBC"
        case 1: "MP3"
        case 2: "AAC"
        case 4: "ATRAC"
        case 0xFF: "vendor (aptX/LDAC)"
        default: "codec \(id)"
        }
    }
}
