import Foundation
import Testing
import TuttiControl
import TuttiTestSupport

/// `tutti demo` end to end: speakers start, play, and the report, plot and WAVs appear.
@Suite(.enabled(if: Peers.tutti != nil, "needs the built tutti executable"))
struct DemoTests {
    @Test func demoPrintsAReportAndWritesThePlotAndWAVs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let demo = try ChildProcess(Peers.tutti!, ["demo", "--seconds", "5", "--speakers", "2", "--out", directory.path])
        let status = demo.waitForExit(seconds: 60)
        let text = String(decoding: demo.output, as: UTF8.self)
        #expect(status == 0, "\(text)\n\(demo.errorText.suffix(2000))")
        #expect(text.contains("Sync report"))
        #expect(text.contains("speaker-1") && text.contains("speaker-2"))
        #expect(text.contains("group skew"))
        let plot = try String(contentsOfFile: "\(directory.path)/sync-plot.svg", encoding: .utf8)
        #expect(plot.hasPrefix("<svg") || plot.hasPrefix("<?xml"))
        for name in ["speaker-1", "speaker-2"] {
            let size = (try FileManager.default.attributesOfItem(atPath: "\(directory.path)/\(name).wav")[.size] as? Int) ?? 0
            // Five seconds of 48 kHz stereo s16 is 960 kB; allow for start-up.
            #expect(size > 500_000, "\(name).wav has \(size) bytes")
        }
    }
}

/// `tutti demo --web`: a server with simulated rooms and the web page, running until SIGTERM.
@Suite(.enabled(if: Peers.tutti != nil, "needs the built tutti executable"))
struct WebDemoTests {
    @Test func theWebDemoServesThePageAndItsRoomsUntilStopped() async throws {
        let (http, control) = (freePort(), freePort())
        let demo = try ChildProcess(Peers.tutti!, ["demo", "--web", "--http-port", "\(http)", "--control-port", "\(control)"])
        defer { demo.stop() }
        #expect(waitUntil(seconds: 15) { String(decoding: demo.output, as: UTF8.self).contains("http://127.0.0.1:\(http)/") }, "\(demo.errorText)")
        let rpc = try RPCClient(port: control)
        var status: JSON = .null
        let arranged = waitUntil(seconds: 15) {
            status = (try? rpc.result("Server.GetStatus")) ?? .null
            let groups = status["server"]?["groups"]?.arrayValue ?? []
            let connected = groups.flatMap { $0["clients"]?.arrayValue ?? [] }.filter { $0["connected"] == true }
            return connected.count == 4 && groups.contains { $0["name"] == "Downstairs" }
        }
        #expect(arranged, "four rooms, two of them grouped: \(status.text)")
        let clients = (status["server"]?["groups"]?.arrayValue ?? []).flatMap { $0["clients"]?.arrayValue ?? [] }
        #expect(clients.first { $0["id"] == "jbl-flip" }?["config"]?["latency"] == 250)
        #expect(waitUntil(seconds: 5) { (try? rpc.result("Routine.List"))?["routines"]?.arrayValue?.count == 1 })
        let page = try String(contentsOf: URL(string: "http://127.0.0.1:\(http)/")!, encoding: .utf8)
        #expect(page.contains("<title>Tutti</title>"))
        demo.signal(SIGTERM)
        #expect(demo.waitForExit(seconds: 10) == 0, "stops cleanly on SIGTERM: \(demo.errorText)")
    }
}
