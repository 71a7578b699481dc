import Testing
import TuttiDBus
@testable import TuttiBluetooth

/// The pure parts: BlueZ's objects followed through its signals, and its errors in user words.
@Suite struct BluetoothModelTests {
    static let adapter = "/org/bluez/hci0"
    static let speaker = "/org/bluez/hci0/dev_AA_BB_CC_00_00_01"

    static func managedObjects(connected: Bool) -> DBusValue {
        let interfaces: (String, [String: DBusValue]) -> DBusValue.DictEntry = { name, properties in
            DBusValue.DictEntry(.string(name), .properties(properties))
        }
        return .dictionary(key: "o", value: "a{sa{sv}}", [
            .init(.objectPath(adapter), .dictionary(key: "s", value: "a{sv}", [
                interfaces("org.bluez.Adapter1", ["Address": .string("00:1A:7D:DA:71:01"), "Alias": .string("kitchen-pi"), "Powered": .boolean(true), "Discovering": .boolean(false)]),
            ])),
            .init(.objectPath(speaker), .dictionary(key: "s", value: "a{sv}", [
                interfaces("org.bluez.Device1", [
                    "Address": .string("AA:BB:CC:00:00:01"), "Alias": .string("JBL Flip 5"), "Adapter": .objectPath(adapter),
                    "Paired": .boolean(true), "Trusted": .boolean(true), "Connected": .boolean(connected), "RSSI": .int16(-55),
                    "UUIDs": .array(element: "s", [.string("0000110B-0000-1000-8000-00805F9B34FB")]),
                ]),
            ])),
        ])
    }

    static func signal(_ path: String, _ interface: String, _ member: String, _ body: [DBusValue]) -> DBusMessage {
        DBusMessage(kind: .signal, path: path, interface: interface, member: member, body: body)
    }

    @Test func managedObjectsGiveAdaptersAndSpeakers() {
        let objects = BlueZObjects(managedObjects: Self.managedObjects(connected: true))
        #expect(objects.devices == [BluetoothDevice(address: "AA:BB:CC:00:00:01", name: "JBL Flip 5", adapter: "hci0", paired: true, trusted: true, connected: true, isSpeaker: true, rssi: -55)])
        let adapters = objects.adapters { _ in 2 }
        #expect(adapters == [BluetoothAdapter(name: "hci0", address: "00:1A:7D:DA:71:01", alias: "kitchen-pi", powered: true, discovering: false, limit: 2, connected: ["AA:BB:CC:00:00:01"])])
        #expect(objects.devicePath(of: "aa_bb_cc_00_00_01") == Self.speaker)
        #expect(objects.adapterPath(named: "hci0") == Self.adapter)
    }

    @Test func signalsAddChangeAndRemoveObjects() {
        var objects = BlueZObjects(managedObjects: Self.managedObjects(connected: false))
        var changed: Bool
        // A transport appears with the connection: codec and reported delay.
        let transport = Self.speaker + "/sep1/fd0"
        changed = objects.apply(Self.signal("/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", [
            .objectPath(transport),
            .dictionary(key: "s", value: "a{sv}", [.init(.string("org.bluez.MediaTransport1"), DBusValue.properties(["Device": .objectPath(Self.speaker), "Codec": .byte(2), "Delay": .uint16(1805)]))]),
        ]))
        #expect(changed)
        changed = objects.apply(Self.signal(Self.speaker, "org.freedesktop.DBus.Properties", "PropertiesChanged", [
            .string("org.bluez.Device1"), .properties(["Connected": .boolean(true)]), .array(element: "s", [.string("RSSI")]),
        ]))
        #expect(changed)
        let device = objects.devices[0]
        #expect(device.connected && device.codec == "AAC" && device.reportedDelayMs == 180.5 && device.rssi == nil)
        // A change to an object nobody announced is ignored; so are other signals.
        changed = objects.apply(Self.signal("/org/bluez/hci9", "org.freedesktop.DBus.Properties", "PropertiesChanged", [.string("org.bluez.Adapter1"), .properties(["Powered": .boolean(false)])]))
        #expect(!changed)
        changed = objects.apply(Self.signal("/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", [.string("bad")]))
        #expect(!changed)
        // Forgotten: the device goes, and with it the adapter's connected list.
        changed = objects.apply(Self.signal("/", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", [.objectPath(Self.speaker), .array(element: "s", [.string("org.bluez.Device1")])]))
        #expect(changed)
        #expect(objects.devices.isEmpty)
        #expect(objects.adapters { _ in 3 }.first?.connected == [])
    }

    @Test(arguments: [
        ("org.bluez.Error.Failed", "br-connection-page-timeout", "out-of-range"),
        ("org.bluez.Error.ConnectionAttemptFailed", "Page Timeout", "out-of-range"),
        ("org.bluez.Error.AuthenticationRejected", "", "pairing-rejected"),
        ("org.bluez.Error.AuthenticationFailed", "", "authentication-failed"),
        ("org.bluez.Error.InProgress", "Operation already in progress", "busy"),
        ("org.bluez.Error.NotReady", "Resource Not Ready", "adapter-off"),
        ("org.bluez.Error.Failed", "br-connection-concurrent-connection-limit", "adapter-limit"),
        ("org.bluez.Error.DoesNotExist", "Does Not Exist", "unknown-device"),
        ("org.freedesktop.DBus.Error.ServiceUnknown", "The name org.bluez was not provided", "no-adapter"),
        ("org.freedesktop.DBus.Error.NoReply", "no reply", "timed-out"),
        ("org.bluez.Error.Failed", "Protocol not available", "failed"),
    ])
    func blueZErrorsBecomeOutcomes(name: String, message: String, code: String) {
        let error = BluetoothError.from(DBusError(name: name, message: message), device: "JBL Flip 5", adapter: "hci0")
        #expect(error.code == code)
        #expect(!error.description.isEmpty)
    }

    @Test func theAgentSaysYesOnlyToWhatTuttiAskedFor() {
        let agent = BluetoothAgent()
        let confirm = DBusMessage(kind: .methodCall, path: BluetoothAgent.path, interface: "org.bluez.Agent1", member: "RequestConfirmation", body: [.objectPath(Self.speaker), .uint32(123456)])
        #expect(throws: DBusError.self) { try agent.handle(confirm).get() }
        agent.expect(Self.speaker)
        #expect(throws: Never.self) { try agent.handle(confirm).get() }
        agent.stopExpecting(Self.speaker)
        #expect(throws: DBusError.self) { try agent.handle(confirm).get() }
        agent.acceptIncoming(true)
        #expect(throws: Never.self) { try agent.handle(confirm).get() }
    }

    @Test(arguments: [
        ("usb:v1D6Bp0246d0542", "5.66"), ("usb:v1d6bp0246d0547", "5.71"), ("usb:v1D6Bp0246d0532", "5.50"),
        // Another vendor's device ID, a truncated one, none: no version is made up.
        ("usb:v0A12p0001d0001", nil), ("usb:v1D6Bp0246d", nil), (nil, nil),
    ] as [(String?, String?)])
    func bluezVersionComesFromItsOwnDeviceID(modalias: String?, version: String?) {
        #expect(BlueZObjects.bluezVersion(modalias: modalias) == version)
    }
}
