import Foundation
import Logging
import TuttiDBus

/// Manages the box's Bluetooth speakers through BlueZ on the system bus: scans, pairs,
/// connects, disconnects and forgets them, each with a clear `BluetoothError`.
///
/// - Pairing and connecting go through one queue per adapter, spaced apart, because a radio
///   does one page/pair at a time (BlueZ answers InProgress otherwise): ask for three speakers
///   at once and they connect one after another, with no "try again" for the user.
/// - An adapter plays to at most `limit` speakers; one more is refused with that reason
///   rather than left stuttering.
/// - Paired speakers the user has not disconnected are reconnected when they come back (the
///   speaker switched on again, the box restarted), with backoff.
public actor BluetoothManager {
    public struct Configuration: Sendable {
        /// Speakers per adapter, by adapter name ("hci0"); others get `defaultLimit`.
        public var limits: [String: Int] = [:]
        /// About 2–3 SBC streams share one radio's airtime well (DESIGN.md).
        public var defaultLimit = 3
        /// The pause between two radio operations on one adapter.
        public var spacing: Duration = .milliseconds(300)
        /// How often an operation the adapter was too busy for is tried again.
        public var busyRetries = 5
        public var pairTimeout: Duration = .seconds(60)
        public var connectTimeout: Duration = .seconds(30)
        /// First wait before reconnecting a lost speaker; doubles up to `reconnectMaximum`.
        public var reconnectInitial: Duration = .seconds(2)
        public var reconnectMaximum: Duration = .seconds(60)
        public var reconnect = true

        public init() {}
    }

    /// What changed, for the API's notifications and the speaker host's outputs.
    public enum Event: Sendable, Equatable {
        case changed
    }

    private let bus: DBusConnection
    private let configuration: Configuration
    private let logger: Logger
    private let agent = BluetoothAgent()
    private var objects: BlueZObjects
    private var queues: [String: Task<Void, Never>] = [:]
    /// Speakers the user disconnected: not reconnected until asked to connect again.
    private var heldOff: Set<String> = []
    private var backoff: [String: (next: ContinuousClock.Instant, wait: Duration)] = [:]
    /// Why each paired speaker that is not connected is not: its last attempt's failure.
    private var failures: [String: BluetoothError] = [:]
    private var tasks: [Task<Void, Never>] = []
    private var listeners: [UUID: AsyncStream<Event>.Continuation] = [:]

    private init(bus: DBusConnection, objects: BlueZObjects, configuration: Configuration, logger: Logger) {
        self.bus = bus
        self.objects = objects
        self.configuration = configuration
        self.logger = logger
    }

    /// Connects to BlueZ on `bus`, reads what it has, registers the pairing agent and starts
    /// following its changes. Throws `.noAdapter` when BlueZ is not there.
    public static func start(bus: DBusConnection, configuration: Configuration = Configuration(), logger: Logger) async throws(BluetoothError) -> BluetoothManager {
        let signals: AsyncStream<DBusMessage>
        let manager: BluetoothManager
        do {
            signals = try await bus.signals(matching: "type='signal',sender='org.bluez'")
            let reply = try await bus.call(destination: "org.bluez", path: "/", interface: "org.freedesktop.DBus.ObjectManager", member: "GetManagedObjects", timeout: .seconds(10))
            manager = BluetoothManager(bus: bus, objects: BlueZObjects(managedObjects: reply.first ?? .array(element: "y", [])), configuration: configuration, logger: logger)
            let agent = manager.agent
            bus.export(path: BluetoothAgent.path) { call in agent.handle(call) }
            try await bus.call(destination: "org.bluez", path: "/org/bluez", interface: "org.bluez.AgentManager1", member: "RegisterAgent", body: [.objectPath(BluetoothAgent.path), .string("NoInputNoOutput")])
            try await bus.call(destination: "org.bluez", path: "/org/bluez", interface: "org.bluez.AgentManager1", member: "RequestDefaultAgent", body: [.objectPath(BluetoothAgent.path)])
        } catch let error as DBusError {
            throw BluetoothError.from(error, device: "", adapter: "")
        } catch {
            throw .failed("\(error)")
        }
        await manager.follow(signals)
        // Receive mode outlives this process while BlueZ keeps the adapter discoverable.
        if await manager.adapters.contains(where: \.receiving) { manager.agent.acceptIncoming(true) }
        return manager
    }

    private func follow(_ signals: AsyncStream<DBusMessage>) {
        tasks.append(Task { [weak self] in
            for await signal in signals {
                await self?.received(signal)
            }
        })
        if configuration.reconnect {
            tasks.append(Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    await self?.reconnectLostSpeakers()
                }
            })
        }
    }

    /// Stops following BlueZ and reconnecting (the bus connection stays the caller's).
    public func stop() {
        for task in tasks { task.cancel() }
        tasks = []
        for listener in listeners.values { listener.finish() }
        listeners = [:]
        bus.unexport(path: BluetoothAgent.path)
    }

    private func received(_ signal: DBusMessage) {
        if objects.apply(signal) {
            for listener in listeners.values { listener.yield(.changed) }
        }
    }

    /// Changes as they happen, until `stop()`.
    public func events() -> AsyncStream<Event> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(16))
        listeners[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.removeListener(id) } }
        return stream
    }

    private func removeListener(_ id: UUID) { listeners[id] = nil }

    // MARK: Status

    public var adapters: [BluetoothAdapter] { objects.adapters(limits: limit(of:)) }
    public var devices: [BluetoothDevice] { objects.devices }

    /// Why a paired speaker is not connected: disconnected on request, or its last attempt's
    /// failure (out of range, adapter limit…); nil when nothing is known (or it is connected).
    public func whyNotConnected(_ address: String) -> BluetoothError? {
        if heldOff.contains(address) { return .notPossible("disconnected on request (tutti ctl bt connect to play it again)") }
        return failures[address]
    }

    private func limit(of adapter: String) -> Int { configuration.limits[adapter] ?? configuration.defaultLimit }

    /// The device an address (any case, `:` or `_`) or a name (any case) refers to.
    private func device(_ reference: String) throws(BluetoothError) -> (path: String, device: BluetoothDevice) {
        let all = objects.devices
        let wanted = BlueZObjects.normalized(reference)
        var matches = all.filter { BlueZObjects.normalized($0.address) == wanted }
        if matches.isEmpty { matches = all.filter { $0.name.lowercased() == reference.lowercased() } }
        if matches.isEmpty {
            // As people say it: "the JBL" is the one speaker whose name has every word said.
            let words = Self.words(reference).filter { !["the", "a", "my"].contains($0) }
            if !words.isEmpty { matches = all.filter { Set(Self.words($0.name)).isSuperset(of: words) } }
        }
        guard let found = matches.first, let path = objects.devicePath(of: found.address) else { throw .unknownDevice(reference) }
        guard matches.count == 1 else {
            throw .notPossible("several Bluetooth devices are called '\(reference)' (\(matches.map(\.address).joined(separator: ", "))): say which address")
        }
        return (path, found)
    }

    private static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    private func adapterPath(_ name: String) throws(BluetoothError) -> String {
        guard let path = objects.adapterPath(named: name) else { throw .noAdapter("no adapter \(name)") }
        return path
    }

    // MARK: Operations

    /// Looks for speakers for `seconds` on every powered adapter (or one) and returns the
    /// speakers BlueZ knows afterwards, the newly found first.
    public func scan(seconds: Double, adapter: String? = nil) async throws(BluetoothError) -> [BluetoothDevice] {
        let chosen = adapters.filter { adapter == nil || $0.name == adapter }
        guard !chosen.isEmpty else { throw .noAdapter(adapter.map { "no adapter \($0)" } ?? "BlueZ reports no adapter") }
        let powered = chosen.filter(\.powered)
        guard !powered.isEmpty else { throw .adapterOff(adapter: chosen[0].name) }
        let before = Set(devices.map(\.address))
        var started: [String] = []
        for adapter in powered {
            let path = try adapterPath(adapter.name)
            let filter = DBusValue.properties(["Transport": .string("bredr"), "UUIDs": .array(element: "s", [.string(BlueZObjects.audioSinkUUID)])])
            do {
                try await bus.call(destination: "org.bluez", path: path, interface: "org.bluez.Adapter1", member: "SetDiscoveryFilter", body: [filter])
                try await bus.call(destination: "org.bluez", path: path, interface: "org.bluez.Adapter1", member: "StartDiscovery")
                started.append(path)
            } catch let error as DBusError where error.name == "org.bluez.Error.InProgress" {
                continue  // someone else is scanning on it: its results arrive all the same
            } catch let error as DBusError {
                throw BluetoothError.from(error, device: "", adapter: adapter.name)
            } catch {
                throw .failed("\(error)")
            }
        }
        try? await Task.sleep(for: .seconds(max(0.1, min(seconds, 60))))
        // Read before stopping: BlueZ drops the signal strengths when discovery ends.
        let found = devices.filter(\.isSpeaker).sorted { (!before.contains($0.address) ? 0 : 1, $0.name) < (!before.contains($1.address) ? 0 : 1, $1.name) }
        for path in started {
            _ = try? await bus.call(destination: "org.bluez", path: path, interface: "org.bluez.Adapter1", member: "StopDiscovery")
        }
        return found
    }

    /// Pairs with a speaker (if not yet paired), trusts it and connects it.
    public func pair(_ address: String) async throws(BluetoothError) -> BluetoothDevice {
        let (path, found) = try device(address)
        heldOff.remove(found.address)
        if !found.paired {
            agent.expect(path)
            defer { agent.stopExpecting(path) }
            try await onAdapter(found.adapter, "pair with \(found.name)") { () async throws(BluetoothError) in
                try await self.callDevice(path, found, "Pair", timeout: self.configuration.pairTimeout)
            }
            objects.set(path, "org.bluez.Device1", "Paired", .boolean(true))
            logger.info("bluetooth: paired", metadata: ["speaker": "\(found.name)", "address": "\(found.address)"])
        }
        try await trust(path, found)
        return try await connect(found.address)
    }

    /// Connects a paired speaker, unless its adapter already plays to as many as it can.
    public func connect(_ address: String) async throws(BluetoothError) -> BluetoothDevice {
        let (path, found) = try device(address)
        heldOff.remove(found.address)
        guard !found.connected else { return found }
        guard found.paired else { throw .notPossible("\(found.name) is not paired: pair it first") }
        do {
            try await onAdapter(found.adapter, "connect \(found.name)") { () async throws(BluetoothError) in
                try await self.checkLimit(found)
                try await self.callDevice(path, found, "Connect", timeout: self.configuration.connectTimeout)
            }
        } catch {
            failures[found.address] = error
            for listener in listeners.values { listener.yield(.changed) }
            throw error
        }
        objects.set(path, "org.bluez.Device1", "Connected", .boolean(true))
        backoff[found.address] = nil
        failures[found.address] = nil
        logger.info("bluetooth: connected", metadata: ["speaker": "\(found.name)", "address": "\(found.address)"])
        return try device(found.address).device
    }

    /// Disconnects a speaker and keeps it disconnected (no automatic reconnect) until asked.
    @discardableResult
    public func disconnect(_ address: String) async throws(BluetoothError) -> BluetoothDevice {
        let (path, found) = try device(address)
        heldOff.insert(found.address)
        guard found.connected else { return found }
        try await callDevice(path, found, "Disconnect", timeout: .seconds(10))
        objects.set(path, "org.bluez.Device1", "Connected", .boolean(false))
        return try device(found.address).device
    }

    /// Forgets a speaker: disconnects it and deletes its pairing (BlueZ's RemoveDevice).
    /// Returns its address.
    @discardableResult
    public func forget(_ address: String) async throws(BluetoothError) -> String {
        let (path, found) = try device(address)
        let adapter = try adapterPath(found.adapter)
        do {
            try await bus.call(destination: "org.bluez", path: adapter, interface: "org.bluez.Adapter1", member: "RemoveDevice", body: [.objectPath(path)])
        } catch let error as DBusError {
            throw BluetoothError.from(error, device: found.name, adapter: found.adapter)
        } catch {
            throw .failed("\(error)")
        }
        heldOff.remove(found.address)
        backoff[found.address] = nil
        logger.info("bluetooth: forgot", metadata: ["speaker": "\(found.name)", "address": "\(found.address)"])
        return found.address
    }

    /// Forgets every paired speaker; returns the addresses forgotten.
    public func forgetAll() async throws(BluetoothError) -> [String] {
        var forgotten: [String] = []
        for device in devices where device.paired {
            try await forget(device.address)
            forgotten.append(device.address)
        }
        return forgotten
    }

    /// Receive mode on or off: the adapter (or every one that can) becomes discoverable and
    /// pairable with no time-out, and the agent lets phones pair and send audio — or stops.
    /// Refused, naming the adapter's mode and how to change it, where an adapter cannot take
    /// a phone's audio (the sound server registered no A2DP sink role on it).
    public func setReceive(_ on: Bool, adapter: String? = nil) async throws(BluetoothError) -> [BluetoothAdapter] {
        let chosen = adapters.filter { adapter == nil || $0.name == adapter }
        guard !chosen.isEmpty else { throw .noAdapter(adapter.map { "no adapter \($0)" } ?? "BlueZ reports no adapter") }
        let targets = on ? chosen.filter(\.canReceive) : chosen
        if on {
            guard !targets.isEmpty else { throw .notPossible(Self.cannotReceive(chosen)) }
            if let off = targets.first(where: { !$0.powered }), targets.allSatisfy({ !$0.powered }) { throw .adapterOff(adapter: off.name) }
        }
        for target in targets where !on || target.powered {
            let path = try adapterPath(target.name)
            var properties: [(String, DBusValue)] = [("Discoverable", .boolean(on))]
            if on { properties = [("Pairable", .boolean(true)), ("DiscoverableTimeout", .uint32(0))] + properties }
            for (name, value) in properties {
                do {
                    try await bus.call(destination: "org.bluez", path: path, interface: "org.freedesktop.DBus.Properties", member: "Set",
                                       body: [.string("org.bluez.Adapter1"), .string(name), .variant(value)])
                    objects.set(path, "org.bluez.Adapter1", name, value)
                } catch let error as DBusError where name == "DiscoverableTimeout" {
                    // An older BlueZ without it: discoverable for its default time (3 minutes).
                    logger.debug("bluetooth: DiscoverableTimeout not set", metadata: ["adapter": "\(target.name)", "error": "\(error)"])
                } catch let error as DBusError {
                    throw BluetoothError.from(error, device: "", adapter: target.name)
                } catch {
                    throw .failed("\(error)")
                }
            }
        }
        agent.acceptIncoming(adapters.contains(where: \.receiving))
        logger.info("bluetooth: receive mode \(on ? "on" : "off")", metadata: ["adapters": "\(targets.map(\.name).joined(separator: ","))"])
        for listener in listeners.values { listener.yield(.changed) }
        return adapters.filter { adapter == nil || $0.name == adapter }
    }

    /// Why none of these adapters can take a phone's audio, and what would change that.
    static func cannotReceive(_ adapters: [BluetoothAdapter]) -> String {
        let names = adapters.map(\.name).joined(separator: ", ")
        let mode = adapters.allSatisfy(\.canSend) ? "is in send mode only (it plays to speakers; A2DP source)" : "has no audio role"
        return "\(names) \(mode) and cannot take a phone's audio: its sound server registered no A2DP sink role. "
            + "To receive, enable it — PipeWire (WirePlumber): add a2dp_sink to bluez5.roles; PulseAudio: module-bluetooth-discover "
            + "with the bluez5 sink role — or use an adapter that reports it (tutti ctl speakers --capabilities shows each adapter's roles)"
    }

    // MARK: Internals

    private func trust(_ path: String, _ device: BluetoothDevice) async throws(BluetoothError) {
        guard !device.trusted else { return }
        do {
            try await bus.call(destination: "org.bluez", path: path, interface: "org.freedesktop.DBus.Properties", member: "Set",
                               body: [.string("org.bluez.Device1"), .string("Trusted"), .variant(.boolean(true))])
            objects.set(path, "org.bluez.Device1", "Trusted", .boolean(true))
        } catch let error as DBusError {
            throw BluetoothError.from(error, device: device.name, adapter: device.adapter)
        } catch {
            throw .failed("\(error)")
        }
    }

    private func checkLimit(_ device: BluetoothDevice) throws(BluetoothError) {
        guard device.isSpeaker, let adapter = adapters.first(where: { $0.name == device.adapter }) else { return }
        let others = adapter.connected.filter { $0 != device.address }
        if others.count >= adapter.limit {
            let names = others.map { address in devices.first { $0.address == address }?.name ?? address }
            throw .adapterLimit(adapter: adapter.name, limit: adapter.limit, connected: names)
        }
    }

    private func callDevice(_ path: String, _ device: BluetoothDevice, _ member: String, timeout: Duration) async throws(BluetoothError) {
        do {
            try await bus.call(destination: "org.bluez", path: path, interface: "org.bluez.Device1", member: member, timeout: timeout)
        } catch let error as DBusError {
            var mapped = BluetoothError.from(error, device: device.name, adapter: device.adapter)
            if case .adapterLimit(let adapter, _, _) = mapped {
                // BlueZ's own limit, below ours: say how many it took.
                let connected = adapters.first { $0.name == adapter }?.connected ?? []
                mapped = .adapterLimit(adapter: adapter, limit: connected.count, connected: connected.map { a in devices.first { $0.address == a }?.name ?? a })
            }
            throw mapped
        } catch {
            throw .failed("\(error)")
        }
    }

    /// Runs a radio operation after those already queued on `adapter`, spaced apart; retries
    /// it while the adapter answers busy (another program's operation).
    private func onAdapter(
        _ adapter: String, _ what: String, _ operation: @escaping @Sendable () async throws(BluetoothError) -> Void
    ) async throws(BluetoothError) {
        let previous = queues[adapter]
        let spacing = configuration.spacing
        let retries = configuration.busyRetries
        let logger = logger
        let work = Task { () async -> BluetoothError? in
            await previous?.value
            for attempt in 0...retries {
                do throws(BluetoothError) {
                    try await operation()
                    return nil
                } catch {
                    guard error.isTransient, attempt < retries else { return error }
                    logger.debug("bluetooth: adapter busy, trying again", metadata: ["operation": "\(what)", "attempt": "\(attempt + 1)"])
                    try? await Task.sleep(for: spacing * (attempt + 1))
                }
            }
            return .busy(adapter: adapter)
        }
        queues[adapter] = Task {
            _ = await work.value
            try? await Task.sleep(for: spacing)
        }
        if let error = await work.value { throw error }
    }

    /// Reconnects paired, trusted speakers that are not connected and that the user did not
    /// disconnect, each on its own backoff (2 s, 4 s, … up to a minute).
    private func reconnectLostSpeakers() async {
        let now = ContinuousClock.now
        for device in devices where device.paired && device.trusted && device.isSpeaker && !device.connected && !heldOff.contains(device.address) {
            guard adapters.first(where: { $0.name == device.adapter })?.powered == true else { continue }
            let state = backoff[device.address] ?? (now, configuration.reconnectInitial)
            guard now >= state.next else { continue }
            backoff[device.address] = (now + state.wait, min(state.wait * 2, configuration.reconnectMaximum))
            do {
                _ = try await connect(device.address)
                logger.info("bluetooth: reconnected", metadata: ["speaker": "\(device.name)"])
            } catch {
                logger.debug("bluetooth: reconnect failed", metadata: ["speaker": "\(device.name)", "error": "\(error)"])
                if failures[device.address] != error {
                    failures[device.address] = error
                    for listener in listeners.values { listener.yield(.changed) }
                }
            }
        }
    }
}
