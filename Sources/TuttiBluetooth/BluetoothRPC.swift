import TuttiControl

/// The `Bluetooth.*` JSON-RPC methods as a speaker host answers them (the server relays them
/// from its API): status, scan, pair, connect, disconnect, forget, forget-all. A failure is
/// error -32007 "Bluetooth failed" with `{code, message}` in `data` (codes: `BluetoothError.code`).
public struct BluetoothRPC: Sendable {
    public static let methods = [
        "Bluetooth.GetStatus", "Bluetooth.Scan", "Bluetooth.Pair", "Bluetooth.Connect", "Bluetooth.Disconnect",
        "Bluetooth.Forget", "Bluetooth.ForgetAll", "Bluetooth.SetReceive",
    ]

    let manager: BluetoothManager

    public init(manager: BluetoothManager) {
        self.manager = manager
    }

    public func handle(_ request: JSONRPC.Request) async -> Result<JSON, RPCError> {
        do {
            return .success(try await answer(request))
        } catch let error as BluetoothError {
            return .failure(Self.rpcError(error))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(.internalError("\(error)"))
        }
    }

    private func answer(_ request: JSONRPC.Request) async throws -> JSON {
        let params = request.params.objectValue ?? [:]
        func device() throws(RPCError) -> String {
            guard let device = params["device"]?.stringValue, !device.isEmpty else {
                throw .invalidParams("'device' (an address like AA:BB:CC:DD:EE:FF, or a name) is required")
            }
            return device
        }
        switch request.method {
        case "Bluetooth.GetStatus":
            return Self.status(adapters: await manager.adapters, devices: await manager.devices)
        case "Bluetooth.Scan":
            let seconds = params["seconds"]?.doubleValue ?? 8
            guard (0.5...60).contains(seconds) else { throw RPCError.invalidParams("'seconds' must be 0.5…60") }
            let found = try await manager.scan(seconds: seconds, adapter: params["adapter"]?.stringValue)
            return ["devices": .array(found.map(Self.json))]
        case "Bluetooth.Pair":
            return ["device": Self.json(try await manager.pair(try device()))]
        case "Bluetooth.Connect":
            return ["device": Self.json(try await manager.connect(try device()))]
        case "Bluetooth.Disconnect":
            return ["device": Self.json(try await manager.disconnect(try device()))]
        case "Bluetooth.Forget":
            return ["forgotten": [.string(try await manager.forget(try device()))]]
        case "Bluetooth.ForgetAll":
            guard params["confirm"]?.boolValue == true else {
                throw RPCError.invalidParams("forgetting every Bluetooth speaker needs {\"confirm\": true}")
            }
            return ["forgotten": .array(try await manager.forgetAll().map { .string($0) })]
        case "Bluetooth.SetReceive":
            guard let on = params["on"]?.boolValue else { throw RPCError.invalidParams("'on' (true or false) is required") }
            let adapters = try await manager.setReceive(on, adapter: params["adapter"]?.stringValue)
            return ["adapters": .array(adapters.map(Self.json))]
        default:
            throw RPCError.methodNotFound(request.method)
        }
    }

    public static func rpcError(_ error: BluetoothError) -> RPCError {
        RPCError(code: -32007, message: "Bluetooth failed", data: ["code": .string(error.code), "message": .string(error.description)])
    }

    static func status(adapters: [BluetoothAdapter], devices: [BluetoothDevice]) -> JSON {
        ["adapters": .array(adapters.map(json)), "devices": .array(devices.filter { $0.isSpeaker || $0.paired || $0.isPhone && $0.connected }.map(json))]
    }

    public static func json(_ adapter: BluetoothAdapter) -> JSON {
        var object: [String: JSON] = [
            "name": .string(adapter.name), "address": .string(adapter.address), "alias": .string(adapter.alias),
            "powered": .bool(adapter.powered), "discovering": .bool(adapter.discovering), "limit": .int(adapter.limit),
            "connected": .array(adapter.connected.map { .string($0) }),
            "roles": .array(adapter.roles.map { .string($0) }), "send": .bool(adapter.canSend), "receive": .bool(adapter.canReceive),
            "receiving": .bool(adapter.receiving),
        ]
        if let version = adapter.bluezVersion { object["bluez"] = .string(version) }
        return .object(object)
    }

    public static func json(_ device: BluetoothDevice) -> JSON {
        var object: [String: JSON] = [
            "address": .string(device.address), "name": .string(device.name), "adapter": .string(device.adapter),
            "paired": .bool(device.paired), "trusted": .bool(device.trusted), "connected": .bool(device.connected),
            "speaker": .bool(device.isSpeaker),
        ]
        if let rssi = device.rssi { object["rssi"] = .int(rssi) }
        if let codec = device.codec { object["codec"] = .string(codec) }
        if let delay = device.reportedDelayMs { object["reportedDelayMs"] = .double(delay) }
        if device.isPhone { object["phone"] = true }
        return .object(object)
    }
}
