import Foundation
import Testing
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
