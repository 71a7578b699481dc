import Testing
import TuttiAudio
@testable import TuttiOutputs
import TuttiTiming

/// ALSA tests need no sound card: they check the errors, and play to ALSA's `null` plugin.
@Suite struct ALSAOutputTests {
    static var libraryInstalled: Bool { (try? ALSALibrary.shared.get()) != nil }

    @Test func aMissingLibraryNamesTheDebianPackage() {
        let error = outputError { () throws(OutputError) in _ = try ALSALibrary(name: "libasound-tutti-missing.so.9") }
        #expect(error == .libraryMissing(name: "libasound-tutti-missing.so.9", package: "libasound2"))
        #expect(error?.description == "libasound-tutti-missing.so.9 is not installed; install the Debian package libasound2 (apt-get install libasound2)")
    }

    @Test func openingWithoutTheLibraryOrWithAnUnknownDeviceIsAClearError() {
        let error = outputError { () throws(OutputError) in
            _ = try OutputFactory.open("alsa:tutti_no_such_device", format: stereo48k, clock: MonotonicClock())
        }
        if Self.libraryInstalled {
            guard case .deviceUnavailable(let device, let reason) = error else {
                Issue.record("expected deviceUnavailable, got \(String(describing: error))")
                return
            }
            #expect(device == "tutti_no_such_device")
            #expect(reason.contains("aplay -L"))
            #expect(error!.description.hasPrefix("audio device 'tutti_no_such_device' is unavailable: cannot open for playback: "))
        } else {
            #expect(error == .libraryMissing(name: "libasound.so.2", package: "libasound2"))
        }
    }

    @Test(.enabled(if: libraryInstalled, "libasound.so.2 is not installed (Debian package libasound2)"))
    func playsToALSAsNullDevice() throws {
        let output = try ALSAOutput(device: "null", format: stereo48k, clock: MonotonicClock())
        defer { output.close() }
        #expect(output.periodFrames > 0)
        #expect(output.bufferFrames >= output.periodFrames)
        let (timings, _) = try drive(output, periods: 20)
        #expect(timings.allSatisfy { $0.frames == output.periodFrames && $0.delay >= 0 })
        output.close()
        #expect(outputError { () throws(OutputError) in _ = try output.waitForNextPeriod() } == .closed(target: "alsa:null"))
    }
}
