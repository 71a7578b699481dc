import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TuttiBluetooth
import TuttiSpeaker

/// `tutti speaker`: play a server's stream in sync on one output.
struct SpeakerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speaker",
        abstract: "Play a stream in sync from a Tutti server or a Snapcast server.",
        discussion: """
            Outputs: pipe:stdout (raw s16le in real time), file:PATH.wav, null, alsa[:DEVICE], \
            pulse[:SINK] (PulseAudio or PipeWire; how Bluetooth speakers are reached). \
            --clock-offset-s and --clock-drift-ppm make this speaker's clock (for sync and for \
            pacing its output) run offset and off-rate, so one machine can stand in for many devices.
            """
    )

    @Option(name: .long, help: "Server as HOST[:PORT] (default port 1704).")
    var server: String

    @Option(name: .long, help: "Speaker ID the server knows it by (default: host name).")
    var id: String?

    @Option(name: .long, help: "Display name (default: the ID).")
    var name: String?

    @Option(name: .long, help: "Instance number, for several speakers on one host.")
    var instance: Int = 1

    @Option(name: .customLong("latency-ms"), help: "Extra latency of this output path in ms (plays that much earlier).")
    var latencyMs: Int = 0

    @Option(name: .long, help: "Output URI.")
    var output: String = "pipe:stdout"

    @Option(name: .customLong("clock-offset-s"), help: "Simulated clock offset in seconds.")
    var clockOffsetSeconds: Double = 0

    @Option(name: .customLong("clock-drift-ppm"), help: "Simulated clock rate error in ppm.")
    var clockDriftPPM: Double = 0

    @Option(name: .customLong("clock-step"), help: ArgumentHelp("Simulated clock step: AFTER:BY seconds (--clock-step=10:-5 sets the clock 5 s back 10 s after start).", valueName: "after:by"))
    var clockStep: String?

    @Option(name: .customLong("time-channel"), help: ArgumentHelp("Where the clock-sync messages go: 'datagram' (Tutti's time channel, UDP on the server's port, where a Tutti server offers it; else as 'stream') or 'stream' (inside the audio connection, as Snapcast's).", valueName: "datagram|stream"))
    var timeChannel: TimeChannelChoice = .datagram

    @Flag(name: .long, help: "Manage this box's Bluetooth speakers through BlueZ (the server's Bluetooth.* requests and `tutti ctl bt`).")
    var bluetooth = false

    @Option(name: .customLong("bluetooth-limit"), help: ArgumentHelp("Speakers per Bluetooth adapter (default 3; 1 suits a Raspberry Pi's built-in radio): N, or ADAPTER=N.", valueName: "limit"))
    var bluetoothLimits: [String] = []

    @Option(name: .customLong("bluetooth-sink"), help: ArgumentHelp("The sound-server sink of a Bluetooth speaker, {address} standing for AA_BB_CC_DD_EE_FF (default: PipeWire's bluez_output.{address}.1, else PulseAudio's bluez_sink.{address}.a2dp_sink). A named sink gets the speaker's reported delay added, as PulseAudio's do.", valueName: "template"))
    var bluetoothSink: String?

    @Option(name: .customLong("bluetooth-phone-source"), help: ArgumentHelp("In receive mode, the sound-server source a connected phone's audio comes from, {address} standing for AA_BB_CC_DD_EE_FF (default: the source whose name has the phone's address, as PipeWire's and PulseAudio's do).", valueName: "template"))
    var bluetoothPhoneSource: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard SpeakerConfiguration.parseServer(server) != nil else {
            throw ValidationError("--server '\(server)' is not HOST[:PORT]")
        }
        guard (1...99).contains(instance) else { throw ValidationError("--instance must be 1...99") }
        guard (-10_000...10_000).contains(latencyMs) else { throw ValidationError("--latency-ms must be within ±10000") }
        guard abs(clockDriftPPM) <= 10_000 else { throw ValidationError("--clock-drift-ppm must be within ±10000") }
        _ = try parsedClockStep()
        _ = try bluetoothConfiguration()
    }

    func bluetoothConfiguration() throws -> BluetoothManager.Configuration {
        var configuration = BluetoothManager.Configuration()
        for limit in bluetoothLimits {
            let parts = limit.split(separator: "=", maxSplits: 1).map(String.init)
            guard let count = Int(parts.last ?? ""), (1...7).contains(count), parts.count <= 2 else {
                throw ValidationError("--bluetooth-limit '\(limit)' is not N or ADAPTER=N with N in 1...7")
            }
            if parts.count == 2 { configuration.limits[parts[0]] = count } else { configuration.defaultLimit = count }
        }
        return configuration
    }

    func parsedClockStep() throws -> SpeakerConfiguration.ClockStep? {
        guard let clockStep else { return nil }
        let parts = clockStep.split(separator: ":").map { Double($0) }
        guard parts.count == 2, let after = parts[0], let by = parts[1], after >= 0, after.isFinite, by.isFinite, abs(by) <= 86_400 else {
            throw ValidationError("--clock-step '\(clockStep)' is not AFTER:BY seconds (AFTER ≥ 0, |BY| ≤ a day)")
        }
        return SpeakerConfiguration.ClockStep(afterSeconds: after, bySeconds: by)
    }

    func speakerConfiguration() -> SpeakerConfiguration {
        let (host, port) = SpeakerConfiguration.parseServer(server)!
        let id = self.id ?? ProcessInfo.processInfo.hostName
        return SpeakerConfiguration(
            host: host, port: port, id: id, name: name, instance: instance, latencyMs: latencyMs, output: output,
            clockOffsetSeconds: clockOffsetSeconds, clockDriftPPM: clockDriftPPM, clockStep: try? parsedClockStep(),
            timeDatagrams: timeChannel == .datagram)
    }

    func run() async throws {
        // A pipe output owns stdout; logs go to stderr regardless.
        let logger = logging.makeLogger(label: "tutti.speaker")
        var bluetoothService: BluetoothHostService?
        var playout: BluetoothPlayout?
        if bluetooth {
            // Each connected Bluetooth speaker plays as a speaker of its own, beside this one.
            let speakers = BluetoothPlayout(
                settings: .init(base: speakerConfiguration(), sinkTemplate: bluetoothSink, addReportedDelay: bluetoothSink == nil ? nil : true,
                    phoneSourceTemplate: bluetoothPhoneSource),
                logger: logger)
            let service = BluetoothHostService(configuration: try bluetoothConfiguration(), logger: logger) { manager in
                Task { await speakers.follow(manager) }
            }
            await speakers.answer(with: service)
            await service.start()
            bluetoothService = service
            playout = speakers
        }
        let hostService = SpeakerHostService(output: output, bluetooth: bluetoothService, playout: playout)
        let speaker = TuttiSpeaker(configuration: speakerConfiguration(), hostService: hostService, logger: logger)
        await playout?.report(through: speaker)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: speaker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
            await playout?.stopAll()
        } catch {
            await playout?.stopAll()
            throw fail("\(error)")
        }
    }
}

/// Where a speaker's clock-sync messages go (`tutti speaker --time-channel`).
enum TimeChannelChoice: String, ExpressibleByArgument, CaseIterable {
    case datagram, stream
}
