import Foundation
import Testing
import TuttiHarness
@testable import TuttiOutputs

/// The host's sound devices, as its capability table lists them.
@Suite struct SoundDevicesTests {
    @Test(.enabled(if: which("pulseaudio") != nil, "needs pulseaudio (Debian: pulseaudio)"))
    func listsASoundServersSinksAndSourcesWithTheirFormat() throws {
        let pulse = try PrivatePulseServer(sinks: ["kitchen", "patio"])
        defer { pulse.stop() }
        let devices = try SoundDevices.pulse(server: pulse.address)
        let sinks = devices.filter { $0.direction == .output }
        #expect(Set(sinks.map(\.name)).isSuperset(of: ["kitchen", "patio"]), "\(devices)")
        let kitchen = try #require(sinks.first { $0.name == "kitchen" })
        #expect(kitchen.uri == "pulse:kitchen")
        #expect(kitchen.rate == 48_000 && kitchen.channels == 2, "\(kitchen)")
        #expect(!kitchen.description.isEmpty && !kitchen.isMonitor)
        let monitor = try #require(devices.first { $0.name == "kitchen.monitor" })
        #expect(monitor.direction == .input && monitor.isMonitor && monitor.uri == "pulse:///kitchen.monitor", "\(monitor)")
    }

    @Test func aSoundServerThatIsNotThereIsAClearError() throws {
        let error = #expect(throws: OutputError.self) {
            _ = try SoundDevices.pulse(server: "unix:/nonexistent/tutti/native", timeoutMilliseconds: 500)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("no sound server answers at unix:/nonexistent/tutti/native"))
    }

    @Test(.enabled(if: (try? ALSALibrary.shared.get()) != nil, "needs libasound2"))
    func listsALSAsPCMsBothWays() throws {
        let devices = try SoundDevices.alsa()
        // Every libasound knows its `null` PCM, both ways.
        #expect(devices.contains { $0.name == "null" && $0.direction == .output && $0.uri == "alsa:null" }, "\(devices)")
        #expect(devices.contains { $0.name == "null" && $0.direction == .input && $0.uri == "alsa:///null" }, "\(devices)")
    }
}
