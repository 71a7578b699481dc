import Logging
import TuttiBluetooth
import TuttiControl
import TuttiDBus
import TuttiSpeaker

/// `tutti speaker --bluetooth`: the host answers the server's `Bluetooth.*` requests with its
/// BlueZ. BlueZ may start after Tutti at boot, or restart: until a manager is running, each
/// request tries to start one, and one that cannot says why (-32007, "no-adapter").
actor BluetoothHostService: HostService {
    nonisolated let capabilities = ["bluetooth"]
    private let configuration: BluetoothManager.Configuration
    private let logger: Logger
    private var bus: DBusConnection?
    private var rpc: BluetoothRPC?
    private var manager: BluetoothManager?
    private var lastFailure: BluetoothError?
    private let started: @Sendable (BluetoothManager) -> Void

    /// - Parameter started: called once, when the manager is running (the playouts follow it).
    init(configuration: BluetoothManager.Configuration, logger: Logger, started: @escaping @Sendable (BluetoothManager) -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.started = started
    }

    /// Starts managing Bluetooth now if BlueZ is there (paired speakers reconnect without
    /// waiting for a request); logs why not otherwise.
    func start() async {
        _ = await running()
    }

    private func running() async -> Result<BluetoothRPC, BluetoothError> {
        if let rpc { return .success(rpc) }
        do {
            let bus = try await DBusConnection.systemBus()
            do {
                let manager = try await BluetoothManager.start(bus: bus, configuration: configuration, logger: logger)
                self.bus = bus
                let rpc = BluetoothRPC(manager: manager)
                self.rpc = rpc
                self.manager = manager
                started(manager)
                let adapters = await manager.adapters
                logger.info("bluetooth: \(adapters.count) adapter(s): \(adapters.map { "\($0.name) (\($0.powered ? "on" : "off"), up to \($0.limit) speakers)" }.joined(separator: ", "))")
                return .success(rpc)
            } catch {
                bus.close()
                throw error
            }
        } catch {
            let failure = (error as? BluetoothError) ?? .noAdapter("\(error)")
            if failure != lastFailure { logger.error("bluetooth: \(failure)") }
            lastFailure = failure
            return .failure(failure)
        }
    }

    /// The Bluetooth part of the host's capability table: each adapter (BlueZ version, roles,
    /// whether it sends and receives, its limit) with its paired and connected speakers and the
    /// codec each uses; or why there is none.
    func capabilityTable() async -> JSON {
        guard case .success = await running(), let manager else {
            let failure = lastFailure ?? .noAdapter("BlueZ is not running")
            return ["available": false, "code": .string(failure.code), "reason": .string(failure.description)]
        }
        let devices = await manager.devices.filter { $0.isSpeaker && ($0.paired || $0.connected) }
        let adapters = await manager.adapters.map { adapter -> JSON in
            guard case .object(var fields) = BluetoothRPC.json(adapter) else { return BluetoothRPC.json(adapter) }
            fields["speakers"] = .array(devices.filter { $0.adapter == adapter.name }.map(BluetoothRPC.json))
            return .object(fields)
        }
        return ["available": true, "adapters": .array(adapters)]
    }

    func handle(_ request: JSONRPC.Request) async -> Result<JSON, RPCError> {
        switch await running() {
        case .success(let rpc): return await rpc.handle(request)
        case .failure(let error): return .failure(BluetoothRPC.rpcError(error))
        }
    }
}
