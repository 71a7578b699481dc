import Foundation
import Logging
import TuttiAudio
import TuttiBluetooth
import TuttiControl
import TuttiOutputs
import TuttiSpeaker
import TuttiTiming

/// Each connected Bluetooth speaker of a `tutti speaker --bluetooth` host as a Tutti speaker of
/// its own: a playout (own connection to the server, own clock sync, output, volume, latency,
/// group) that appears when the speaker connects and goes when it disconnects. Its ID is the
/// Bluetooth address, so it keeps its settings and group if it later connects to another host.
///
/// Its output is the sound server's sink for it — PipeWire's `bluez_output.ADDRESS.1` or
/// PulseAudio's `bluez_sink.ADDRESS.a2dp_sink` (or `--bluetooth-sink`'s template). The output's
/// own reported latency is used as every output's is; PulseAudio leaves the speaker's transport
/// delay out of it (PipeWire includes it), so with PulseAudio the delay the speaker reports is
/// added as this playout's extra latency, re-read as it changes (small changes are slewed).
actor BluetoothPlayout {
    struct Settings: Sendable {
        /// The server and the rest of the host's speaker settings (ID and name are replaced).
        var base: SpeakerConfiguration
        /// `{address}` becomes `AA_BB_CC_DD_EE_FF`; nil: PipeWire's name, else PulseAudio's.
        var sinkTemplate: String?
        /// Whether the sink's latency leaves out the speaker's own delay (PulseAudio's sinks);
        /// nil: decided by which sound server's sink it is.
        var addReportedDelay: Bool?
        /// The sound-server source a connected phone's audio comes from, `{address}` as for
        /// sinks; nil: the source whose name has the phone's address in it.
        var phoneSourceTemplate: String? = nil
    }

    private struct Running {
        var speaker: TuttiSpeaker
        var task: Task<Void, Never>
        var addsReportedDelay: Bool
        var extraMs: Int
    }

    private let settings: Settings
    private let logger: Logger
    private var running: [String: Running] = [:]
    /// Speakers that could not be played, and why (logged once each).
    private var refused: [String: String] = [:]
    /// Where the host's list of speakers that do not play goes (its own speaker's connection).
    private var publish: @Sendable (JSON) -> Void = { _ in }
    private var published: JSON?
    /// The host's Bluetooth, which each speaker's capability table describes its link from.
    private var bluetooth: BluetoothHostService?
    /// Connected phones (receive mode), by address: their names, and where their audio goes.
    private var phones: [String: String] = [:]
    private var forwarders: [String: PhoneForwarder] = [:]
    /// When each connected speaker connected: one with no audio transport a few seconds on
    /// shares no codec with the sound server.
    private var connectedSince: [String: ContinuousClock.Instant] = [:]
    private var publishPhones: @Sendable (JSON) -> Void = { _ in }
    private var publishedPhones: JSON?

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Each speaker answers `Host.GetCapabilities` with its link from `service`.
    func answer(with service: BluetoothHostService) {
        bluetooth = service
    }

    /// Sends the host's `Host.Exclusions` through this speaker (the host's own).
    func report(through host: TuttiSpeaker) {
        publish = { params in host.publishHostNotice(method: "Host.Exclusions", params: params) }
        if let published { publish(published) }
        publishPhones = { params in host.publishHostNotice(method: "Host.Phones", params: params) }
        if let publishedPhones { publishPhones(publishedPhones) }
    }

    /// Follows the manager's speakers until the task is cancelled: on each change, and every
    /// 2 s (a playout's buffer arrives with its first settings).
    func follow(_ manager: BluetoothManager) async {
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                await self?.reconcile(manager)
            }
        }
        defer { ticker.cancel() }
        await reconcile(manager)
        for await _ in await manager.events() {
            await reconcile(manager)
        }
    }

    func reconcile(_ manager: BluetoothManager) async {
        await reconcile(manager.devices)
        await reportExclusions(manager)
        reconcilePhones(await manager.devices)
    }

    // MARK: Phones (receive mode)

    /// Tells the server which phones are connected (it makes a stream of each and asks for
    /// its audio with `Host.SendPhone`); stops sending a phone's audio when it goes.
    private func reconcilePhones(_ devices: [BluetoothDevice]) {
        let connected = devices.filter { $0.isPhone && $0.connected }
        phones = Dictionary(connected.map { ($0.address, $0.name) }) { first, _ in first }
        for (address, forwarder) in forwarders where phones[address] == nil {
            logger.info("bluetooth: \(forwarder.phone) disconnected; its audio no longer goes to the server")
            forwarder.stop()
            forwarders[address] = nil
        }
        let params: JSON = ["phones": .array(connected.map { ["address": .string($0.address), "name": .string($0.name)] })]
        guard params != publishedPhones else { return }
        publishedPhones = params
        publishPhones(params)
    }

    /// `Host.SendPhone {address, port}`: sends that phone's audio to the server's receiver.
    func sendPhone(_ params: JSON) async -> Result<JSON, RPCError> {
        guard let address = params["address"]?.stringValue, let port = params["port"]?.intValue, (1...65_535).contains(port) else {
            return .failure(.invalidParams("'address' and 'port' (1…65535) are required"))
        }
        guard let name = phones[address] else { return .failure(.invalidParams("no phone \(address) is connected to this host")) }
        if let running = forwarders[address], running.port == port { return .success(["source": .string(running.source)]) }
        guard let source = phoneSource(address) else {
            return .failure(.notSupported(
                "\(name) is connected but the sound server offers no source for it: is PipeWire (with the a2dp_sink role), or PulseAudio's module-bluetooth-discover, running?"))
        }
        forwarders[address]?.stop()
        let forwarder = PhoneForwarder(phone: name, source: source, host: settings.base.host, port: port, logger: logger)
        forwarders[address] = forwarder
        forwarder.start()
        return .success(["source": .string(source)])
    }

    /// The sound-server source of a phone: the template's, or one whose name has its address.
    private func phoneSource(_ address: String) -> String? {
        let underscored = Self.underscored(address)
        if let template = settings.phoneSourceTemplate { return template.replacingOccurrences(of: "{address}", with: underscored) }
        let sources = (try? SoundDevices.pulse(timeoutMilliseconds: 1500)) ?? []
        return sources.first { $0.direction == .input && !$0.isMonitor && $0.name.uppercased().contains(underscored) }?.name
    }

    /// Every paired speaker of this host that does not play, and why, to the server — so that
    /// none is left out silently. Sent when the list changes (and again on each reconnection).
    private func reportExclusions(_ manager: BluetoothManager) async {
        var items: [JSON] = []
        for device in await manager.devices where device.isSpeaker && device.paired {
            func item(_ code: String, _ message: String) {
                items.append(["id": .string(device.address), "name": .string(device.name), "code": .string(code), "message": .string(message)])
            }
            if !device.connected {
                let why = await manager.whyNotConnected(device.address)
                switch why {
                case .notPossible(let message)?: item("disconnected", message)
                case let error?: item(error.code, error.description)
                case nil: item("disconnected", "not connected to its host (it keeps trying)")
                }
            } else if let why = refused[device.address] {
                if device.codec == nil, let since = connectedSince[device.address], ContinuousClock.now - since > .seconds(4) {
                    item("codec-not-supported", "connected, but BlueZ set up no audio stream (A2DP transport) for it: it and the sound server share no codec, so it cannot play (a sound server with more codecs — PipeWire offers SBC, AAC, aptX and LDAC — may)")
                } else {
                    item("no-sink", why)
                }
            } else if let playout = running[device.address], playout.speaker.bufferMs > 0, playout.extraMs + 50 > playout.speaker.bufferMs {
                let needed = (playout.extraMs + 250) / 100 * 100
                item("delay-too-large", "its delay (\(playout.extraMs) ms) is more than the group's \(playout.speaker.bufferMs) ms buffer allows: a buffer of \(needed) ms would work (buffer_ms in the server's configuration)")
            }
        }
        let params: JSON = ["speakers": .array(items)]
        guard params != published else { return }
        published = params
        publish(params)
    }

    /// Starts a playout for each connected speaker that has none, stops those whose speaker
    /// went, and passes on changes of reported delay.
    func reconcile(_ devices: [BluetoothDevice]) async {
        let connected = devices.filter { $0.connected && $0.isSpeaker }
        connectedSince = connectedSince.filter { address, _ in connected.contains { $0.address == address } }
        for device in connected where connectedSince[device.address] == nil { connectedSince[device.address] = .now }
        for device in connected {
            if var playout = running[device.address] {
                let extra = playout.addsReportedDelay ? Int((device.reportedDelayMs ?? 0).rounded()) : 0
                if extra != playout.extraMs {
                    logger.info("bluetooth: \(device.name) reports \(device.reportedDelayMs ?? 0) ms of delay; its latency follows")
                    playout.speaker.setExtraLatency(milliseconds: extra)
                    playout.extraMs = extra
                    running[device.address] = playout
                }
            } else {
                start(device)
            }
        }
        for (address, playout) in running where !connected.contains(where: { $0.address == address }) {
            logger.info("bluetooth: \(address) disconnected; its playout stops")
            playout.speaker.stop()
            await playout.task.value
            running[address] = nil
        }
        refused = refused.filter { address, _ in connected.contains { $0.address == address } }
    }

    private func start(_ device: BluetoothDevice) {
        guard let (sink, pipeWire) = sink(for: device) else {
            let why = "no sound-server sink for it (\(candidates(for: device).map(\.sink).joined(separator: " or "))): is PipeWire, or PulseAudio's module-bluetooth-discover, running?"
            if refused[device.address] != why { logger.error("bluetooth: \(device.name) is connected but cannot play: \(why)") }
            refused[device.address] = why
            return
        }
        let addsDelay = settings.addReportedDelay ?? !pipeWire
        let extra = addsDelay ? Int((device.reportedDelayMs ?? 0).rounded()) : 0
        var configuration = settings.base
        configuration.id = device.address
        configuration.name = device.name
        configuration.output = "pulse:\(sink)"
        configuration.latencyMs = extra
        let speaker = TuttiSpeaker(
            configuration: configuration, hostService: SpeakerHostService(output: configuration.output, bluetooth: bluetooth, bluetoothSpeaker: device.address),
            logger: logger)
        let task = Task {
            do { try await speaker.run() } catch { logger.error("bluetooth: \(device.name)'s playout ended: \(error)") }
        }
        running[device.address] = Running(speaker: speaker, task: task, addsReportedDelay: addsDelay, extraMs: extra)
        logger.info("bluetooth: \(device.name) plays as speaker '\(device.address)' on pulse:\(sink)\(addsDelay ? ", \(extra) ms of reported delay added" : "")")
    }

    private func candidates(for device: BluetoothDevice) -> [(sink: String, pipeWire: Bool)] {
        let address = Self.underscored(device.address)
        if let template = settings.sinkTemplate {
            return [(template.replacingOccurrences(of: "{address}", with: address), false)]
        }
        return [("bluez_output.\(address).1", true), ("bluez_sink.\(address).a2dp_sink", false)]
    }

    /// An address as sound servers write it in their sink and source names: `AA_BB_CC_DD_EE_FF`.
    static func underscored(_ address: String) -> String {
        address.uppercased().split(separator: ":").joined(separator: "_")
    }

    /// The first candidate sink the sound server has (opened and closed again to find out).
    private func sink(for device: BluetoothDevice) -> (String, Bool)? {
        for candidate in candidates(for: device) {
            if let output = try? OutputFactory.open(
                "pulse:\(candidate.sink)", format: SampleFormat(rate: 48000, bits: 16, channels: 2), clock: MonotonicClock(), logger: logger)
            {
                output.close()
                return candidate
            }
        }
        return nil
    }

    /// Stops every playout (the host is shutting down).
    func stopAll() async {
        for forwarder in forwarders.values { forwarder.stop() }
        forwarders = [:]
        for playout in running.values {
            playout.speaker.stop()
            await playout.task.value
        }
        running = [:]
    }
}
