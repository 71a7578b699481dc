import Foundation

/// A real `dbus-daemon` on a socket in a temporary directory, configured like a system bus but
/// open to this user: what tests put BlueZ stand-ins and Tutti's D-Bus clients on. Stopped, and
/// its directory removed, on `stop()`/deinit.
public final class PrivateBus: @unchecked Sendable {
    /// The bus address to give clients (`unix:path=…`), e.g. as `DBUS_SYSTEM_BUS_ADDRESS`.
    public let address: String
    public let directory: URL
    private let daemon: ChildProcess

    /// Starts the daemon; throws `HarnessError.missing` when `dbus-daemon` is not installed.
    public static func start() throws -> PrivateBus {
        guard let executable = which("dbus-daemon") else { throw HarnessError.missing("dbus-daemon (Debian: dbus-daemon)") }
        return try PrivateBus(executable: executable)
    }

    private init(executable: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-bus-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let socket = directory.appendingPathComponent("bus").path
        address = "unix:path=\(socket)"
        // Any name may be owned and any message sent: the stand-ins own system names like org.bluez.
        let config = """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>\(address)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_type="method_call"/>
                <allow send_type="signal"/>
                <allow send_type="method_return"/>
                <allow send_type="error"/>
                <allow receive_type="method_call"/>
                <allow receive_type="signal"/>
                <allow receive_type="method_return"/>
                <allow receive_type="error"/>
              </policy>
            </busconfig>
            """
        let configFile = directory.appendingPathComponent("bus.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        daemon = try ChildProcess(executable, ["--config-file=\(configFile.path)", "--nofork", "--nopidfile", "--nosyslog"])
        guard waitUntil(seconds: 10, { FileManager.default.fileExists(atPath: socket) || !daemon.isRunning }), daemon.isRunning else {
            throw HarnessError.failed("dbus-daemon did not start: \(daemon.errorText)")
        }
    }

    /// The environment a child on this bus needs (as its system bus).
    public var environment: [String: String] { ["DBUS_SYSTEM_BUS_ADDRESS": address] }

    public func stop() {
        daemon.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// Why a harness could not set up a peer.
public enum HarnessError: Error, CustomStringConvertible {
    case missing(String)
    case failed(String)

    public var description: String {
        switch self {
        case .missing(let what): "not installed: \(what)"
        case .failed(let why): why
        }
    }
}
