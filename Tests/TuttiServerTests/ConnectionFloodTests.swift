import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// A thousand connections at once on the speaker port and a thousand on the control port — some
/// silent, some sending junk — against a real `tutti server` process: the speaker already
/// playing plays on without a gap, and the API keeps answering.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct ConnectionFloodTests {
    static func connect(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    @Test func aThousandConnectionsDoNotHarmASpeakerThatPlays() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let stream = freePort(), control = freePort()
        let server = try ChildProcess(Peers.tutti!, [
            "server", "--source", "tone://?name=default&codec=pcm", "--bind", "127.0.0.1", "--stream-port", "\(stream)",
            "--control-port", "\(control)", "--http-port", "0", "--data-dir", directory.path,
        ])
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "\(server.errorText)")
        let rpc = try RPCClient(port: control)
        let speaker = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", "kitchen", "--output", "pipe:stdout"])
        defer { speaker.stop() }
        _ = try ControlAPIServerTests.waitForSpeakers(["kitchen"], rpc)
        try #require(waitUntil(seconds: 10) { NetworkFaultTests.soundAgain(speaker, after: 0) != nil })
        try await Task.sleep(for: .seconds(2))

        let floodStarted = monotonicNanos()
        var sockets: [Int32] = []
        for index in 0..<2_000 {
            guard let fd = Self.connect(index % 2 == 0 ? stream : control) else { continue }
            sockets.append(fd)
            // Every tenth sends junk: a frame header that promises far more than it sends, or a
            // line that is not JSON.
            if index % 10 == 0 {
                let junk: [UInt8] = index % 20 == 0 ? [0x00, 0x00, 0xff, 0xff, 0xff, 0x7f] + Array(repeating: 0xAB, count: 20) : Array("{not json\n".utf8)
                _ = junk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
        let opened = sockets.count
        // The API answers in the middle of it.
        let asked = monotonicNanos()
        let answer = try rpc.call("Server.GetStatus", within: 5)
        let answeredIn = Double(monotonicNanos() - asked) / 1e6
        try await Task.sleep(for: .seconds(3))
        sockets.forEach { close($0) }
        try await Task.sleep(for: .seconds(2))
        print("flood: \(opened) of 2000 connections opened; Server.GetStatus answered in \(String(format: "%.1f", answeredIn)) ms during it")

        #expect(opened >= 1_000, "only \(opened) connections could be opened")
        #expect(answer["result"] != nil, "\(answer.text)")
        // The speaker played on: no silence and no pause in its output from the flood on.
        let reads = speaker.reads.filter { $0.arrival > floodStarted }
        let longestPause = zip(reads, reads.dropFirst()).map { Double($1.arrival - $0.arrival) / 1e6 }.max() ?? 0
        let silentReads = reads.filter { read in read.bytes.count >= 64 && read.bytes.allSatisfy { $0 == 0 } }.count
        print("flood: the speaker's longest pause \(String(format: "%.0f", longestPause)) ms, \(silentReads) silent reads")
        #expect(reads.count > 100)
        #expect(longestPause < 250, "the speaker paused \(longestPause) ms")
        #expect(silentReads == 0)
        #expect(server.isRunning, "\(server.errorText.suffix(2000))")
        // And it is still served as before.
        let status = try ControlAPIServerTests.waitForSpeakers(["kitchen"], rpc)
        #expect(ControlAPIServerTests.clients(status).count == 1, "the junk connections became speakers: \(status.text)")
    }
}
