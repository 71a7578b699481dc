import Foundation

/// Where the test's peer programs are, and why a test is skipped when one is missing.
public enum Peers {
    /// The absolute path of an executable on PATH, or nil.
    public static func which(_ name: String) -> String? { TuttiHarness.which(name) }

    public static let snapclient = which("snapclient")
    public static let snapserver = which("snapserver")

    /// The `tutti` executable built next to this test bundle.
    public static let tutti: String? = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tutti").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        // `swift test` puts products in .build/debug; fall back to it relative to this file.
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/tutti").standardized.path
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }()
}

/// A fresh temporary directory, removed by `cleanup()`.
public struct TemporaryDirectory {
    public let path: String

    public init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tutti-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Finds a TCP port on 127.0.0.1 that is free right now (the OS picks it).
public func freePort() -> Int { freeLoopbackPort() }

/// `tutti server` arguments for a test process: `arguments` plus ports the OS picks for the
/// control API and a data directory of its own (under `directory`, or a new temporary one), so
/// tests never touch the machine's ports 1705/1780 or the user's state.
public func testServerArguments(_ arguments: [String], dataDirectory: String? = nil) -> [String] {
    let directory = dataDirectory ?? ((try? TemporaryDirectory().path) ?? NSTemporaryDirectory())
    return arguments + ["--control-port", "0", "--http-port", "0", "--data-dir", directory]
}
