import Foundation
import Testing
import TuttiControl
import TuttiMeasure
import TuttiTestSupport

/// A stereo pair of a Tutti speaker (which plays the channel it is told) and a real snapclient
/// (which gets a channel-mapped variant of the stream), in a group with a third speaker: each
/// half plays its side on both of its channels, in sync with the third speaker's same side.
@Suite(.serialized, .enabled(if: Peers.tutti != nil && Peers.snapclient != nil, "needs snapclient (apt-get install snapclient)"))
struct StereoPairPlaybackTests {
    @Test func aTuttiSpeakerAndASnapclientPlayLeftAndRightInSyncWithTheirGroup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (stream, control) = (freePort(), freePort())
        let server = try ChildProcess(Peers.tutti!, [
            "server", "--source", "tone://?name=default&kind=music&codec=pcm", "--bind", "127.0.0.1", "--stream-port", "\(stream)",
            "--control-port", "\(control)", "--http-port", "0", "--data-dir", directory.path,
        ])
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "server did not start: \(server.errorText)")
        let left = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", "left", "--output", "pipe:stdout"])
        defer { left.stop() }
        let right = try ChildProcess(Peers.snapclient!, ["-h", "127.0.0.1", "-p", "\(stream)", "--hostID", "right", "--player", "file:filename=stdout"])
        defer { right.stop() }
        let reference = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(stream)", "--id", "reference", "--output", "pipe:stdout"])
        defer { reference.stop() }

        let rpc = try RPCClient(port: control)
        let status = try ControlAPIServerTests.waitForSpeakers(["left", "right", "reference"], rpc)
        let group = try #require(ControlAPIServerTests.groupID(of: "reference", status))
        _ = try rpc.result("Group.SetClients", ["id": .string(group), "clients": ["reference", "left", "right"]])
        // Before pairing: where a snapclient's output sits against a Tutti speaker's on this host
        // (snapclient's file player writes with a lead of its own, which this measures).
        try await Task.sleep(for: .seconds(3))
        let unpairedFrom = monotonicNanos()
        try await Task.sleep(for: .seconds(4))
        let unpaired = [right, reference].map { process in
            PlayerCapture(name: "", reads: process.reads.filter { $0.arrival >= unpairedFrom }.map { CaptureRead(arrival: $0.arrival, bytes: $0.bytes) })
        }
        var options = SyncAnalysisOptions()
        options.windowSpacingNanoseconds = 50_000_000
        var snapclientAlone = unpaired[0]
        var referenceAlone = unpaired[1]
        referenceAlone.leadNanoseconds = 5_000_000
        snapclientAlone.leadNanoseconds = 0
        let baseline = SyncAnalysis.analyze([snapclientAlone, referenceAlone], startedAt: unpairedFrom, settleAfter: unpairedFrom, options: options)
        let baselineSkew = try #require(baseline.skew?.p50, "the snapclient and the reference play the same stream in sync")

        _ = try rpc.result("Pair.Create", ["left": "left", "right": "right", "name": "Living room"])
        try await Task.sleep(for: .seconds(3))
        let from = monotonicNanos()
        try await Task.sleep(for: .seconds(6))
        let to = monotonicNanos()

        let captures = [left, right, reference].map { process in
            PlayerCapture(name: "", reads: process.reads.filter { $0.arrival >= from && $0.arrival < to }.map { CaptureRead(arrival: $0.arrival, bytes: $0.bytes) })
        }
        // Each half carries one side on both channels; the reference plays stereo.
        for (name, capture) in zip(["left (Tutti)", "right (snapclient)"], captures.prefix(2)) {
            let probe = PCMProbe(samples: Self.samples(capture))
            #expect(probe.samples.count > 48_000 * 4, "\(name) played")
            #expect(probe.level() > -40, "\(name) is audible: \(probe)")
            #expect(zip(probe.channel(0), probe.channel(1)).allSatisfy { $0 == $1 }, "\(name) has the same signal on both channels")
        }
        let stereo = PCMProbe(samples: Self.samples(captures[2]))
        #expect(zip(stereo.channel(0), stereo.channel(1)).contains { $0 != $1 }, "the reference plays stereo")

        // In sync with the reference's same side (and not its other side).
        let leftSync = Self.skew(captures[0], lead: 5_000_000, against: captures[2], channel: 0, from: from)
        let rightSync = Self.skew(captures[1], lead: 0, against: captures[2], channel: 1, from: from)
        print("pair skew against the group's third speaker: left \(leftSync), right \(rightSync); snapclient unpaired \(baselineSkew) µs")
        // Within 1 ms: seconds after the speakers started their clock estimates are young (the
        // sync goal itself is measured by `tutti bench sync`, on settled estimates); what this
        // checks is that pairing — a channel change, no stream switch — costs no sync.
        #expect(leftSync.windows >= 20 && leftSync.p50 < 1_000, "the left half (Tutti) is in sync with the group: \(leftSync)")
        #expect(rightSync.windows >= 20, "the right half (snapclient) plays the right side: \(rightSync)")
        #expect(abs(rightSync.p50 - baselineSkew) < 1_000, "the right half is as close to the group as a snapclient was before pairing: \(rightSync), \(baselineSkew) µs")
        let crossed = Self.skew(captures[0], lead: 5_000_000, against: captures[2], channel: 1, from: from)
        #expect(crossed.windows < leftSync.windows / 2, "the left half does not carry the right side: \(crossed)")
    }

    static func samples(_ capture: PlayerCapture) -> [Int16] {
        var bytes = capture.reads.flatMap(\.bytes)
        bytes.removeLast(bytes.count % 4)
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    }

    /// The skew (µs, median over 50 ms windows) between a pair half and one channel of the
    /// reference speaker, measured from the outside by content alignment.
    static func skew(_ half: PlayerCapture, lead: Int64, against reference: PlayerCapture, channel: Int, from: Int64) -> (windows: Int, p50: Double) {
        var half = half
        half.leadNanoseconds = lead
        let side = PlayerCapture(name: "side", reads: Self.oneChannel(reference, channel), leadNanoseconds: 5_000_000)
        var options = SyncAnalysisOptions()
        options.windowSpacingNanoseconds = 50_000_000
        let report = SyncAnalysis.analyze([half, side], startedAt: from, settleAfter: from + 1_000_000_000, options: options)
        return (report.comparedWindows, report.skew?.p50 ?? .infinity)
    }

    /// The same reads (same sizes, same arrival times) with one channel copied onto both.
    static func oneChannel(_ capture: PlayerCapture, _ channel: Int) -> [CaptureRead] {
        let all = capture.reads.flatMap(\.bytes)
        var offset = 0
        return capture.reads.map { read in
            let bytes = (offset..<offset + read.bytes.count).map { index -> UInt8 in
                let frame = index / 4
                let source = frame * 4 + channel * 2 + index % 2
                return source < all.count ? all[source] : 0
            }
            offset += read.bytes.count
            return CaptureRead(arrival: read.arrival, bytes: bytes)
        }
    }
}
