import Foundation

/// What tests and benches play to instead of sound cards: a sound server of their own, with
/// null sinks (each with its monitor source) reached through the PulseAudio protocol.
public protocol PrivateSoundServer: AnyObject, Sendable {
    /// The server address for clients (`PULSE_SERVER`).
    var address: String { get }
    var environment: [String: String] { get }
    /// "PulseAudio" or "PipeWire": what the figures were measured on.
    var name: String { get }
    func stop()
}

extension PrivatePulseServer: PrivateSoundServer {
    public var name: String { "PulseAudio" }
}

/// A PipeWire of our own — `pipewire`, `wireplumber` and `pipewire-pulse` (its PulseAudio
/// layer) in a temporary runtime directory, on a private D-Bus session bus, kept off the
/// system bus — with null sinks made through the PulseAudio protocol (`pactl`). Stopped, and its
/// directory removed, on `stop()`/deinit.
public final class PrivatePipeWireServer: PrivateSoundServer, @unchecked Sendable {
    public let directory: URL
    public let name = "PipeWire"
    private let bus: PrivateBus
    private var daemons: [ChildProcess] = []
    public var address: String { "unix:\(directory.path)/pulse/native" }
    public var environment: [String: String] { ["PULSE_SERVER": address] }

    /// Why it cannot run here, or nil.
    public static var missing: String? {
        for tool in ["pipewire", "wireplumber", "pipewire-pulse", "pactl", "dbus-daemon"] where which(tool) == nil {
            return "needs \(tool) (Debian: pipewire, wireplumber, pipewire-pulse, pulseaudio-utils, dbus-daemon)"
        }
        return nil
    }

    public init(sinks: [String]) throws {
        if let missing = Self.missing { throw HarnessError.missing(missing) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-pipewire-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        bus = try PrivateBus.start()
        let environment = [
            "XDG_RUNTIME_DIR": directory.path, "HOME": directory.path, "DBUS_SESSION_BUS_ADDRESS": bus.address,
            // Not the box's Bluetooth, nor anything else on its system bus.
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=\(directory.path)/no-system-bus",
        ]
        do {
            daemons.append(try ChildProcess(which("pipewire")!, [], environment: environment))
            let socket = directory.appendingPathComponent("pipewire-0").path
            guard waitUntil(seconds: 10, { FileManager.default.fileExists(atPath: socket) || !daemons[0].isRunning }), daemons[0].isRunning else {
                throw HarnessError.failed("pipewire did not start: \(daemons[0].errorText)")
            }
            daemons.append(try ChildProcess(which("wireplumber")!, [], environment: environment))
            daemons.append(try ChildProcess(which("pipewire-pulse")!, [], environment: environment))
            let pulse = directory.appendingPathComponent("pulse/native").path
            guard waitUntil(seconds: 10, { FileManager.default.fileExists(atPath: pulse) || !daemons[2].isRunning }), daemons[2].isRunning else {
                throw HarnessError.failed("pipewire-pulse did not start: \(daemons[2].errorText)")
            }
            for sink in sinks {
                let load = try ChildProcess(which("pactl")!, ["--server=\(address)", "load-module", "module-null-sink", "sink_name=\(sink)", "rate=48000"])
                guard load.waitForExit(seconds: 10) == 0 else { throw HarnessError.failed("pactl could not make the null sink \(sink): \(load.errorText)") }
            }
        } catch {
            stop()
            throw error
        }
    }

    public func stop() {
        for daemon in daemons.reversed() { daemon.stop() }
        daemons = []
        bus.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
