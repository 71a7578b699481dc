import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TuttiControl
import TuttiTestSupport

/// The web page served by `tutti server` at `/` on the HTTP port.
@Suite(.serialized) struct WebPageServingTests {
    @Test func thePageAndItsModulesAreServedWithTheirTypesAndAPolicy() async throws {
        try await withServerPorts { ports, _ in
            for (path, type, marker) in [
                ("/", "text/html", "<script type=\"module\" src=\"app.js\">"), ("/app.js", "text/javascript", "Server.GetStatus"),
                ("/rpc.js", "text/javascript", "export class Connection"), ("/style.css", "text/css", "prefers-color-scheme"),
            ] {
                let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(ports.http)\(path)")!)
                let http = try #require(response as? HTTPURLResponse)
                #expect(http.statusCode == 200, "\(path)")
                #expect(http.value(forHTTPHeaderField: "Content-Type")?.hasPrefix(type) == true, "\(path)")
                #expect(http.value(forHTTPHeaderField: "Content-Security-Policy")?.contains("default-src 'self'") == true, "\(path)")
                #expect(String(decoding: data, as: UTF8.self).contains(marker), "\(path)")
            }
            let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(ports.http)/nothing.js")!)
            #expect((missing as? HTTPURLResponse)?.statusCode == 404)
        }
    }
}

/// Debian's real Chromium, headless, drives the page against a running server with real Tutti
/// speakers (Tests/TuttiServerTests/Scripts/web_app_check.py, through chromium-driver): it
/// checks that the page shows the API's groups and speakers, changes a volume, moves a speaker,
/// turns party mode on and off and types a sentence, checking the server's state through the
/// API after each step; it fails on any console error. Screenshots (desktop and phone width)
/// are kept in `.build/artifacts/web-app/`.
@Suite(.serialized, .enabled(if: HeadlessBrowser.available, "needs the built tutti, Debian's chromium and chromium-driver, and the selenium Python package"))
struct WebAppTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/web_app_check.py").path
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../.build/artifacts/web-app").standardized.path

    @Test func chromiumChangesVolumesGroupsAndPartyModeThroughThePage() async throws {
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        try await withServerPorts(sources: ControlAPIServerTests.twoStreams) { ports, _ in
            let speakers = try ["kitchen", "patio", "living"].map { id in
                try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", id, "--output", "null"])
            }
            defer { speakers.forEach { $0.stop() } }
            _ = try ControlAPIServerTests.waitForSpeakers(["kitchen", "patio", "living"], try RPCClient(port: ports.control))
            let check = try ChildProcess(Peers.which("python3")!, [Self.script, "\(ports.http)", Self.artifacts])
            let code = check.waitForExit(seconds: 120)
            let output = String(decoding: check.output, as: UTF8.self)
            print(output)
            #expect(code == 0, "the browser check failed: \(output)\n\(check.errorText)")
            #expect(output.hasSuffix("OK\n"))
            for file in ["desktop.png", "desktop-party.png", "phone.png", "desktop-dark.png"] {
                #expect(FileManager.default.fileExists(atPath: "\(Self.artifacts)/\(file)"), "\(file) was saved")
            }
        }
    }
}

/// Whether this machine can drive a headless Chromium: the built `tutti`, Debian's `chromium`
/// and `chromium-driver`, and Python's `selenium`.
enum HeadlessBrowser {
    static let available: Bool = {
        guard Peers.tutti != nil, Peers.which("chromium") != nil, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
              let python = Peers.which("python3"), let probe = try? ChildProcess(python, ["-c", "import selenium"])
        else { return false }
        return probe.waitForExit(seconds: 20) == 0
    }()
}
