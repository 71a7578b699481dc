import Foundation
import Testing
import TuttiControl
import TuttiHarness
import TuttiTestSupport

/// Receive mode end to end: `tutti ctl bt receive on` through the server to a real `tutti
/// speaker --bluetooth` host, a phone pairing and connecting to the BlueZ stand-in, and the
/// phone's audio — a PulseAudio null sink fed by pacat stands in for the source the sound
/// server makes of it — played intact by another speaker from the stream the server made of it.
@Suite(
    .serialized,
    .enabled(if: Peers.tutti != nil, "needs the built tutti executable (swift build)"),
    .enabled(if: FakeBlueZ.missing == nil, "needs dbus-daemon, dbus-send and Debian's python3 with python3-dbus and python3-gi"),
    .enabled(if: which("pulseaudio") != nil && which("pacat") != nil, "needs pulseaudio and pacat (Debian: pulseaudio, pulseaudio-utils)"))
struct ReceiveModeTests {
    static let house = """
        {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:01", "op_ms": 50},
                      {"name": "hci1", "address": "00:1A:7D:DA:71:02", "op_ms": 50, "receive": true}],
         "devices": []}
        """
    static let phone = "AA:BB:CC:00:00:09"

    @Test func aPhonesBluetoothAudioBecomesAStreamAGroupPlays() async throws {
        let bluez = try FakeBlueZ(config: Self.house)
        let pulse = try PrivatePulseServer(sinks: ["phone_AA_BB_CC_00_00_09"])
        defer { pulse.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let signal = "\(directory.path)/phone.raw"
        try Data(RampToneSignal.bytes(frames: 0..<(48_000 * 30))).write(to: URL(fileURLWithPath: signal))

        try await withServerPorts { ports, _ in
            let rpc = try RPCClient(port: ports.control)
            let box = try ChildProcess(
                Peers.tutti!, [
                    "speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "box", "--output", "null", "--bluetooth",
                    "--bluetooth-phone-source", "phone_{address}.monitor",
                ], environment: bluez.bus.environment.merging(pulse.environment) { $1 })
            defer { box.stop() }
            _ = try ControlAPIServerTests.waitForSpeakers(["box"], rpc)

            // An adapter that only sends is refused, saying its mode and how to change it.
            let refused = try rpc.call("Bluetooth.SetReceive", ["on": true, "adapter": "hci0"], within: 15)
            #expect(refused["error"]?["data"]?["code"] == "not-possible", "\(refused.text)")
            #expect(refused["error"]?["data"]?["message"]?.stringValue?.contains("hci0 is in send mode only") == true, "\(refused.text)")
            // Before receive mode, phones cannot find the box.
            #expect(throws: (any Error).self) { try bluez.control("PhoneConnects", "string:hci1", "string:\(Self.phone)", "string:Pixel 7") }

            let on = try BluetoothRelayTests.ctl(ports.control, ["bt", "receive", "on"])
            #expect(on.code == 0 && on.output.contains("receive mode on (hci1)"), "\(on.output) \(on.error)")
            let status = try BluetoothRelayTests.ctl(ports.control, ["bt"])
            #expect(status.output.contains("on (phones can pair)") && status.output.contains("cannot"), "\(status.output)")

            // The phone pairs (the agent lets it, headless) and connects; its audio starts.
            _ = try bluez.control("PhoneConnects", "string:hci1", "string:\(Self.phone)", "string:Pixel 7")
            let player = try ChildProcess(which("pacat")!, [
                "--server=\(pulse.address)", "--device=phone_AA_BB_CC_00_00_09", "--raw", "--format=s16le", "--rate=48000", "--channels=2", signal,
            ])
            defer { player.stop() }
            let stream = "Pixel 7 (Bluetooth)"
            let appeared = waitUntil(seconds: 10) {
                let streams = (try? rpc.result("Server.GetStatus"))?["server"]?["streams"]?.arrayValue ?? []
                return streams.contains { $0["id"]?.stringValue == stream }
            }
            try #require(appeared, "no stream '\(stream)': \(box.errorText.suffix(2000))")
            let devices = try rpc.result("Bluetooth.GetStatus", within: 15)["devices"]?.arrayValue ?? []
            #expect(devices.contains { $0["address"]?.stringValue == Self.phone && $0["phone"] == true && $0["paired"] == true }, "\(devices)")

            // A speaker whose group plays the phone's stream plays its audio intact.
            let first = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "living-room", "--output", "null"])
            let listed = try ControlAPIServerTests.waitForSpeakers(["living-room"], rpc)
            first.stop()
            let group = try #require(ControlAPIServerTests.groupID(of: "living-room", listed))
            _ = try rpc.result("Group.SetStream", ["id": .string(group), "stream_id": .string(stream)])
            let speaker = try ChildProcess(Peers.tutti!, ["speaker", "--server", "127.0.0.1:\(ports.stream)", "--id", "living-room", "--output", "pipe:stdout"])
            try await Task.sleep(for: .seconds(6))
            speaker.stop()
            _ = speaker.waitForOutputEnd(seconds: 5)
            let result = PlaybackCheck.analyze(speaker.output, skipFrames: 48_000)
            #expect(result.blocks.count >= 30, "\(result)\n\(box.errorText.suffix(2000))")
            #expect(result.minimumSNR >= 40, "\(result)")
            #expect(result.largestJump < 0.5, "\(result)")

            // Off: phones cannot find the box any more.
            let off = try BluetoothRelayTests.ctl(ports.control, ["bt", "receive", "off"])
            #expect(off.code == 0 && off.output.contains("receive mode off"), "\(off.output) \(off.error)")
            #expect(throws: (any Error).self) { try bluez.control("PhoneConnects", "string:hci1", "string:AA:BB:CC:00:00:0A", "string:Other") }
        }
    }
}
