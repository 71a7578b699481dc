import Foundation
import Testing
import TuttiTestSupport

/// A real `snapclient` 0.26 plays from `tutti server`, sample for sample.
///
/// `tutti server` reads a FIFO fed with a counting signal; snapclients write what they play to
/// stdout (`--player file:filename=stdout`). After their initial silence the output must be the
/// source's frames, in order, without a gap — also for one client while another is SIGKILLed
/// and restarted.
@Suite(.serialized, .enabled(if: Peers.snapclient != nil && Peers.tutti != nil,
    "needs snapclient (apt-get install snapclient) and the built tutti executable"))
struct SnapclientPlaybackTests {
    @Test func twoSnapclientsPlayTheSourceExactlyAndSurviveAPeerKill() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let fifo = "\(directory.path)/fifo"
        let port = freePort()
        let server = try ChildProcess(Peers.tutti!, testServerArguments([
            "server", "--source", "pipe://\(fifo)?name=default&sampleformat=48000:16:2",
            "--bind", "127.0.0.1", "--stream-port", "\(port)", "--buffer-ms", "1000",
        ]))
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "server did not start: \(server.errorText)")
        let writer = FIFOWriter(path: fifo, totalFrames: 48_000 * 60)
        defer { writer.stop() }

        func snapclient(_ id: String, instance: Int) throws -> ChildProcess {
            try ChildProcess(Peers.snapclient!, [
                "-h", "127.0.0.1", "-p", "\(port)", "--hostID", id, "-i", "\(instance)",
                "--player", "file:filename=stdout", "--logsink", "stderr", "--logfilter", "*:info",
            ])
        }
        let steady = try snapclient("steady", instance: 1)
        defer { steady.stop() }
        let victim = try snapclient("victim", instance: 2)
        Thread.sleep(forTimeInterval: 3)
        victim.signal(SIGKILL)
        _ = victim.waitForExit(seconds: 2)
        Thread.sleep(forTimeInterval: 1)
        let revived = try snapclient("victim", instance: 2)
        defer { revived.stop() }
        Thread.sleep(forTimeInterval: 3)
        steady.stop()
        revived.stop()

        // A snapclient corrects its own playout by dropping or repeating single frames: counted,
        // and kept few; anything else — a gap, silence, a jump — is a break. (One full-suite run
        // here broke the steady client's count 0.6 s before its end; whether by such a
        // correction was not recorded — a break now prints the frames around it.)
        let steadyRun = CounterSignal.analyze(steady.output, toleratingSingleFrames: true)
        let victimRun = CounterSignal.analyze(victim.output, toleratingSingleFrames: true)
        let revivedRun = CounterSignal.analyze(revived.output, toleratingSingleFrames: true)
        print("steady: \(steadyRun), victim: \(victimRun), revived: \(revivedRun)")
        #expect(steadyRun.firstBreak == nil, "steady client's output broke: \(steadyRun), around it: \(CounterSignal.frames(steady.output, around: steadyRun.firstBreak))\n\(steady.errorText.suffix(2000))")
        // ~6 s of the ~7 s it runs (after its buffer fills): 5 s leaves room for a slow start.
        #expect(steadyRun.signalFrames >= 48_000 * 5, "steady client played \(steadyRun.signalFrames) frames")
        #expect(victimRun.firstBreak == nil, "\(victimRun)")
        #expect(victimRun.signalFrames >= 48_000 * 2)
        #expect(revivedRun.firstBreak == nil, "\(revivedRun), around it: \(CounterSignal.frames(revived.output, around: revivedRun.firstBreak))\n\(revived.errorText.suffix(2000))")
        #expect(revivedRun.signalFrames >= 48_000 * 2, "the restarted client plays again")
        #expect([steadyRun, victimRun, revivedRun].allSatisfy { $0.corrections <= 4 }, "snapclient's own corrections")
    }

    /// One snapclient playing a pipe stream of `codec` fed with `signal` for `seconds`.
    private func playThroughSnapclient(codec: String, signal: @escaping @Sendable (Range<Int>) -> [UInt8], seconds: Double) throws -> ChildProcess {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let fifo = "\(directory.path)/fifo"
        let port = freePort()
        let server = try ChildProcess(Peers.tutti!, testServerArguments([
            "server", "--source", "pipe://\(fifo)?name=default&codec=\(codec)", "--bind", "127.0.0.1", "--stream-port", "\(port)",
        ]))
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") }, "server did not start: \(server.errorText)")
        let writer = FIFOWriter(path: fifo, totalFrames: 48_000 * 60, signal: signal)
        defer { writer.stop() }
        let client = try ChildProcess(Peers.snapclient!, [
            "-h", "127.0.0.1", "-p", "\(port)", "--hostID", "codec-\(codec)", "--player", "file:filename=stdout",
            "--logsink", "stderr", "--logfilter", "*:info",
        ])
        Thread.sleep(forTimeInterval: seconds)
        client.stop()
        return client
    }

    @Test func snapclientPlaysTuttisFLACStreamBitExactly() throws {
        let client = try playThroughSnapclient(codec: "flac", signal: CounterSignal.bytes(frames:), seconds: 4)
        let run = CounterSignal.analyze(client.output)
        print("snapclient, FLAC from tutti server: \(run)")
        #expect(run.firstBreak == nil, "\(run)\n\(client.errorText.suffix(2000))")
        #expect(run.signalFrames >= 48_000 * 2, "\(run)\n\(client.errorText.suffix(2000))")
    }

    @Test func snapclientPlaysTuttisOpusStreamAligned() throws {
        let client = try playThroughSnapclient(codec: "opus", signal: RampToneSignal.bytes(frames:), seconds: 4)
        let result = PlaybackCheck.analyze(client.output, skipFrames: 24_000, coarseSearch: 400)
        print("snapclient, Opus from tutti server: \(result)")
        #expect(result.blocks.count >= 10, "\(result)\n\(client.errorText.suffix(2000))")
        #expect(result.medianSNR >= 25, "\(result)")
        #expect(result.largestLevelError < 1, "\(result)")
    }
}
