import Foundation
import Testing
import TuttiHarness
import TuttiTestSupport

/// Line-in: a capture device recorded by `tutti server` plays through a speaker with its content
/// intact. The "aux input" is a PulseAudio null sink fed by `pacat` as a turntable would feed
/// it; the server records its monitor through PulseAudio (`pulse:///`) or through ALSA
/// (`alsa:///pulse:…`, ALSA's PulseAudio plugin standing in for a sound card's input, which
/// these machines do not have).
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: which("pulseaudio") != nil && which("pacat") != nil, "needs pulseaudio and pacat (Debian: pulseaudio, pulseaudio-utils)"))
struct LineInTests {
    static var alsaPulsePluginInstalled: Bool {
        ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"].contains {
            FileManager.default.fileExists(atPath: "\($0)/alsa-lib/libasound_module_pcm_pulse.so")
        }
    }

    @Test func aPulseSourcePlaysThroughASpeakerIntact() throws {
        try checkLineIn { pulse in "pulse:///aux.monitor?name=turntable&server=\(pulse.address)" }
    }

    @Test(.enabled(if: alsaPulsePluginInstalled, "needs ALSA's PulseAudio plugin (Debian: libasound2-plugins)"))
    func anALSACaptureDevicePlaysThroughASpeakerIntact() throws {
        try checkLineIn { _ in "alsa:///pulse:aux.monitor?name=turntable" }
    }

    /// Plays 12 s of ``RampToneSignal`` into the aux sink, records it with `tutti server
    /// --source URI`, and checks what a speaker played from it: no gap, no level change, a clean tone.
    private func checkLineIn(_ uri: (PrivatePulseServer) -> String) throws {
        let pulse = try PrivatePulseServer(sinks: ["aux"])
        defer { pulse.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let signal = "\(directory.path)/turntable.raw"
        try Data(RampToneSignal.bytes(frames: 0..<(48_000 * 12))).write(to: URL(fileURLWithPath: signal))
        let turntable = try ChildProcess(which("pacat")!, [
            "--server=\(pulse.address)", "--device=aux", "--raw", "--format=s16le", "--rate=48000", "--channels=2", signal,
        ])
        defer { turntable.stop() }
        let port = freePort()
        let server = try ChildProcess(Peers.tutti!, testServerArguments([
            "server", "--source", uri(pulse), "--bind", "127.0.0.1", "--stream-port", "\(port)",
        ], dataDirectory: directory.path), environment: pulse.environment)
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { server.errorText.contains("serving") || !server.isRunning }, "\(server.errorText)")
        try #require(server.isRunning, "\(server.errorText)")
        let speaker = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(port)", "--id", "living-room", "--output", "pipe:stdout"])
        Thread.sleep(forTimeInterval: 6)
        speaker.stop()
        _ = speaker.waitForOutputEnd(seconds: 5)
        let result = PlaybackCheck.analyze(speaker.output, skipFrames: 48_000)
        #expect(result.blocks.count >= 40, "\(result)\n\(server.errorText.suffix(2000))")
        #expect(result.minimumSNR >= 40, "\(result)")
        #expect(result.largestJump < 0.5, "\(result)")
        #expect(result.largestLevelError < 0.5, "\(result)")
    }

    @Test func aMissingCaptureDeviceIsAClearError() throws {
        let server = try ChildProcess(Peers.tutti!, testServerArguments(["server", "--source", "alsa:///tutti_no_such_input?name=aux", "--stream-port", "0"]))
        defer { server.stop() }
        #expect(server.waitForExit(seconds: 10) == 1)
        #expect(server.errorText.contains("line-in alsa:tutti_no_such_input"), "\(server.errorText)")
        #expect(server.errorText.contains("arecord -L"), "\(server.errorText)")
    }

    @Test func lineInCannotBeAddedThroughTheAPI() async throws {
        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            for uri in ["pulse:///default.monitor?name=spy", "alsa:///hw:0?name=spy"] {
                let refused = try rpc.call("Stream.AddStream", ["streamUri": .string(uri)])
                #expect(refused["error"] != nil)
                #expect(refused.text.contains("only be configured in the server's configuration"), "\(refused.text)")
            }
        }
    }
}
