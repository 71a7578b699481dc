import Foundation

/// A private bus with the test stand-in for BlueZ on it (Tests/TuttiBluetoothTests/Scripts/
/// fake_bluez.py, Debian's python3 with python3-dbus and python3-gi), configured with adapters
/// and speakers as JSON. Everything stops on `stop()`/deinit.
public final class FakeBlueZ: @unchecked Sendable {
    public let bus: PrivateBus
    private let service: ChildProcess

    /// The stand-in's script in the source tree.
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/TuttiBluetoothTests/Scripts/fake_bluez.py").standardized.path

    /// Why the stand-in cannot run here, or nil if it can (found out once).
    public static let missing: String? = {
        guard which("dbus-daemon") != nil else { return "dbus-daemon is not installed (Debian: dbus-daemon)" }
        let probe = try? ChildProcess("/usr/bin/python3", ["-c", "import dbus, dbus.service, dbus.mainloop.glib; from gi.repository import GLib"])
        guard let probe, probe.waitForExit(seconds: 20) == 0 else { return "Debian's python3 lacks python3-dbus or python3-gi" }
        return nil
    }()

    public init(config: String) throws {
        bus = try PrivateBus.start()
        let file = bus.directory.appendingPathComponent("bluez.json")
        try config.write(to: file, atomically: true, encoding: .utf8)
        service = try ChildProcess("/usr/bin/python3", [Self.script, file.path], environment: bus.environment)
        guard waitUntil(seconds: 15, { String(decoding: service.output, as: UTF8.self).contains("ready") || !service.isRunning }), service.isRunning else {
            throw HarnessError.failed("the BlueZ stand-in did not start: \(service.errorText)")
        }
    }

    /// Calls a test control of the stand-in (org.tutti.FakeBluez) with `dbus-send` arguments.
    @discardableResult
    public func control(_ member: String, _ arguments: String...) throws -> String {
        let send = try ChildProcess(which("dbus-send") ?? "/usr/bin/dbus-send", ["--bus=\(bus.address)", "--print-reply", "--dest=org.bluez", "/org/tutti/fake", "org.tutti.FakeBluez.\(member)"] + arguments)
        guard send.waitForExit(seconds: 10) == 0, send.waitForOutputEnd(seconds: 5) else { throw HarnessError.failed("\(member): \(send.errorText)") }
        return String(decoding: send.output, as: UTF8.self)
    }

    /// The BlueZ calls the stand-in has seen, in order (its Calls() log).
    public func calls() throws -> [String] {
        try control("Calls").split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("string \"") else { return nil }
            return String(trimmed.dropFirst(8).dropLast())
        }
    }

    public var errorText: String { service.errorText }

    public func stop() {
        service.stop()
        bus.stop()
    }

    deinit { stop() }
}
