import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// A level trim set through the API makes a real Tutti speaker that much quieter under the same
/// volume, measured in what it plays; its neighbour, untrimmed, is not touched.
@Suite(.serialized, .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"))
struct TrimPlaybackTests {
    /// The RMS level (dB full scale) of the last `seconds` a speaker wrote to its pipe after `since`.
    static func level(_ process: ChildProcess, since: Int64) -> Double {
        let bytes = process.reads.filter { $0.arrival > since }.flatMap(\.bytes)
        let samples = bytes.count / 2
        guard samples > 48_000 else { return -.infinity }
        var sum = 0.0
        for index in (samples - 48_000)..<samples {
            let value = Double(Int16(bitPattern: UInt16(bytes[index * 2]) | UInt16(bytes[index * 2 + 1]) << 8)) / 32_768
            sum += value * value
        }
        return 10 * log10(sum / 48_000)
    }

    @Test func aTrimLowersOneSpeakerByItsDecibels() async throws {
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let speakers = try ["near", "far"].map { id in
                try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", id, "--output", "pipe:stdout"])
            }
            defer { speakers.forEach { $0.stop() } }
            _ = try ControlAPIServerTests.waitForSpeakers(["near", "far"], rpc)
            _ = try rpc.result("Client.SetVolume", ["id": "near", "volume": ["percent": 80]])
            _ = try rpc.result("Client.SetVolume", ["id": "far", "volume": ["percent": 80]])
            #expect(try rpc.result("Client.SetTrim", ["id": "near", "trimDb": -6]) == ["trimDb": -6])
            let trimmedAt = monotonicNanos()
            try await Task.sleep(for: .seconds(3))
            let near = Self.level(speakers[0], since: trimmedAt), far = Self.level(speakers[1], since: trimmedAt)
            // Same volume, same tone: 6 dB apart (a little rounding of 16-bit samples aside).
            #expect(abs(near - far + 6) < 0.2, "near \(near) dB, far \(far) dB")
            // Back to 0: equal again.
            _ = try rpc.result("Client.SetTrim", ["id": "near", "trimDb": 0])
            let clearedAt = monotonicNanos()
            try await Task.sleep(for: .seconds(3))
            let again = Self.level(speakers[0], since: clearedAt), other = Self.level(speakers[1], since: clearedAt)
            #expect(abs(again - other) < 0.2, "near \(again) dB, far \(other) dB")
        }
    }
}
