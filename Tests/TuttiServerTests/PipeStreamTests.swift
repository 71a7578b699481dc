import Foundation
import Testing
import TuttiTestSupport
import TuttiWire

/// A pipe stream survives its writer going away and coming back: it goes idle, then plays
/// again on a re-anchored sample clock.
@Suite(.serialized) struct PipeStreamTests {
    @Test func writerLeavesAndReturns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let fifo = "\(directory.path)/fifo"
        try await withServer(sources: ["pipe://\(fifo)?name=default&codec=pcm"]) { port, log in
            let speaker = try RawSpeaker(port: port)
            speaker.hello(id: "listener")
            var writer = FIFOWriter(path: fifo, totalFrames: 48_000)  // one second, then the writer closes
            let first = try speaker.readFrames(seconds: 2).chunkTimestamps
            writer.stop()
            #expect(first.count == 50, "one second of 20 ms chunks")
            #expect(zip(first, first.dropFirst()).allSatisfy { $1 - $0 == 20_000 })
            #expect(waitUntil(seconds: 1) { log.contains("source paused") })

            writer = FIFOWriter(path: fifo, totalFrames: 24_000)
            let second = try speaker.readFrames(seconds: 1.5).chunkTimestamps
            writer.stop()
            #expect(second.count == 25)
            #expect(zip(second, second.dropFirst()).allSatisfy { $1 - $0 == 20_000 })
            // Re-anchored to when the data came back, not continued from the old clock.
            #expect(second.first! - first.last! > 1_000_000)
            #expect(!log.contains("disconnecting"))
        }
    }
}
