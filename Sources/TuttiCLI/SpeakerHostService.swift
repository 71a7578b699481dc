import Foundation
import Logging
import TuttiBluetooth
import TuttiControl
import TuttiOutputs
import TuttiSpeaker

/// What every `tutti speaker` answers its server besides playing: `Host.GetCapabilities`, the
/// table of what this host can do (outputs, inputs, Bluetooth, stereo pairs), and with
/// `--bluetooth` the `Bluetooth.*` requests.
///
/// Each Bluetooth speaker a `--bluetooth` host plays to answers too (so `Client.GetCapabilities`
/// works for it), with its own output and Bluetooth link, but relays no `Bluetooth.*` requests:
/// those go to the host's own speaker only.
struct SpeakerHostService: HostService {
    let capabilities: [String]
    private let output: String
    private let bluetooth: BluetoothHostService?
    private let bluetoothSpeaker: String?
    private let playout: BluetoothPlayout?

    /// - Parameters:
    ///   - output: the output this speaker plays to.
    ///   - bluetooth: the host's Bluetooth, when it manages it.
    ///   - bluetoothSpeaker: for one of its Bluetooth speakers, that speaker's address.
    ///   - playout: the host's Bluetooth playouts, which send phones' audio (`Host.SendPhone`).
    init(output: String, bluetooth: BluetoothHostService?, bluetoothSpeaker: String? = nil, playout: BluetoothPlayout? = nil) {
        self.output = output
        self.playout = playout
        self.bluetooth = bluetooth
        self.bluetoothSpeaker = bluetoothSpeaker
        capabilities = bluetooth != nil && bluetoothSpeaker == nil ? ["bluetooth"] : []
    }

    func handle(_ request: JSONRPC.Request) async -> Result<JSON, RPCError> {
        if request.method == "Host.GetCapabilities" { return .success(await table()) }
        if request.method == "Host.SendPhone", let playout, bluetoothSpeaker == nil { return await playout.sendPhone(request.params) }
        guard let bluetooth, bluetoothSpeaker == nil else { return .failure(.methodNotFound(request.method)) }
        return await bluetooth.handle(request)
    }

    /// The capability table. Listing the sound devices blocks (a sound server may take a moment
    /// to answer), so it runs on a thread of its own.
    func table() async -> JSON {
        let devices = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Self.soundDevices()) }
        }
        var object: [String: JSON] = [
            "hostname": .string(ProcessInfo.processInfo.hostName),
            "os": .string(ProcessInfo.processInfo.operatingSystemVersionString),
            "output": .string(output),
            // Every Tutti speaker plays one channel of a stream when told to (ServerSettings channel).
            "stereoPair": true,
            "channels": ["stereo", "left", "right", "mono"],
            "outputs": .array(devices.list.filter { $0.direction == .output }.map(Self.json)),
            "inputs": .array(devices.list.filter { $0.direction == .input }.map(Self.json)),
        ]
        if !devices.problems.isEmpty { object["problems"] = .array(devices.problems.map { .string($0) }) }
        if let bluetooth {
            var table = await bluetooth.capabilityTable()
            if let bluetoothSpeaker, case .object(var fields) = table {
                let speaker = fields["adapters"]?.arrayValue?.lazy.compactMap { $0["speakers"]?.arrayValue }.joined()
                    .first { $0["address"]?.stringValue == bluetoothSpeaker }
                if let speaker { fields["speaker"] = speaker }
                table = .object(fields)
            }
            object["bluetooth"] = table
        } else {
            object["bluetooth"] = ["available": false, "code": "not-managed", "reason": "this host does not manage Bluetooth: start it with `tutti speaker --bluetooth`"]
        }
        return .object(object)
    }

    private static func soundDevices() -> (list: [SoundDevice], problems: [String]) {
        var list: [SoundDevice] = [], problems: [String] = []
        do { list += try SoundDevices.alsa() } catch { problems.append("ALSA: \(error)") }
        do { list += try SoundDevices.pulse(timeoutMilliseconds: 1500) } catch { problems.append("PulseAudio/PipeWire: \(error)") }
        return (list, problems)
    }

    private static func json(_ device: SoundDevice) -> JSON {
        var object: [String: JSON] = [
            "api": .string(device.api), "name": .string(device.name), "description": .string(device.description), "uri": .string(device.uri),
        ]
        if device.isMonitor { object["monitor"] = true }
        if let rate = device.rate { object["rate"] = .int(rate) }
        if let channels = device.channels { object["channels"] = .int(channels) }
        if let codec = device.bluetoothCodec { object["bluetoothCodec"] = .string(codec) }
        return .object(object)
    }
}
