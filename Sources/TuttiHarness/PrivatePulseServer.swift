import Foundation

/// A `pulseaudio` of our own in a temporary runtime directory, with null sinks (each with its
/// monitor source) and an anonymous unix socket; stopped with SIGTERM on `stop()`/deinit.
/// Null sinks stand in for real devices, Bluetooth speakers included.
public final class PrivatePulseServer: @unchecked Sendable {
    public let directory: URL
    private let daemon: ChildProcess
    /// The server address for clients (`PULSE_SERVER`).
    public var address: String { "unix:\(directory.path)/native" }
    public var environment: [String: String] { ["PULSE_SERVER": address] }

    public init(sinks: [String] = ["tutti_test"]) throws {
        guard let executable = which("pulseaudio") else { throw HarnessError.missing("pulseaudio (Debian: pulseaudio)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-pulse-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        daemon = try ChildProcess(executable, [
            "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no", "--disable-shm=yes",
            "--log-target=stderr", "--log-level=error",
            "--load=module-native-protocol-unix socket=\(directory.path)/native auth-anonymous=1",
        ] + sinks.map { "--load=module-null-sink sink_name=\($0) rate=48000" },
        environment: ["XDG_RUNTIME_DIR": directory.path, "HOME": directory.path])
        let socket = directory.appendingPathComponent("native").path
        guard waitUntil(seconds: 10, { FileManager.default.fileExists(atPath: socket) || !daemon.isRunning }), daemon.isRunning else {
            let why = daemon.errorText
            stop()
            throw HarnessError.failed("pulseaudio did not start: \(why)")
        }
    }

    public func stop() {
        daemon.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
