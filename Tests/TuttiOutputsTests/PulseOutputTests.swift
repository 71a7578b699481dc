#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TuttiAudio
import TuttiHarness
@testable import TuttiOutputs
import TuttiTiming

@Suite struct PulseOutputTests {
    static var libraryInstalled: Bool { (try? PulseSimpleLibrary.shared.get()) != nil }
    static var pulseaudioPath: String? { findExecutable("pulseaudio") }

    @Test func aMissingLibraryNamesTheDebianPackage() {
        let error = outputError { () throws(OutputError) in _ = try PulseSimpleLibrary(name: "libpulse-simple-tutti-missing.so.0") }
        #expect(error == .libraryMissing(name: "libpulse-simple-tutti-missing.so.0", package: "libpulse0"))
        #expect(error?.description.contains("apt-get install libpulse0") == true)
    }

    @Test func noServerIsAClearErrorNamingTheServerPackages() {
        let error = outputError { () throws(OutputError) in
            _ = try PulseOutput(server: "unix:/nonexistent-tutti-dir/native", format: stereo48k, clock: MonotonicClock())
        }
        if Self.libraryInstalled {
            guard case .soundServerUnavailable(let reason) = error else {
                Issue.record("expected soundServerUnavailable, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("at unix:/nonexistent-tutti-dir/native"))
            #expect(reason.contains("pulseaudio or pipewire-pulse"))
        } else {
            #expect(error == .libraryMissing(name: "libpulse-simple.so.0", package: "libpulse0"))
        }
    }

    @Test(.enabled(if: libraryInstalled && pulseaudioPath != nil, "needs libpulse0 and the pulseaudio server (Debian package pulseaudio)"))
    func playsToARealServersNullSink() throws {
        let server = try PrivatePulseServer()
        defer { server.stop() }

        let unknown = outputError { () throws(OutputError) in
            _ = try PulseOutput(sink: "tutti_no_such_sink", server: server.address, format: stereo48k, clock: MonotonicClock())
        }
        guard case .soundServerUnavailable(let reason) = unknown else {
            Issue.record("expected soundServerUnavailable, got \(String(describing: unknown))")
            return
        }
        #expect(reason.contains("no sink named 'tutti_no_such_sink'"))

        let clock = MonotonicClock()
        let output = try PulseOutput(sink: "tutti_test", server: server.address, format: stereo48k, clock: clock)
        defer { output.close() }
        let began = clock.now()
        let (timings, _) = try drive(output, periods: 40)  // 400 ms
        let elapsed = clock.now() - began
        // The server paces: 400 ms of audio cannot be taken much faster than real time minus
        // its ~50 ms buffer (loose bound), and once playing it reports a positive latency.
        #expect(elapsed >= 200 * .nanosPerMillisecond, "took \(elapsed / .nanosPerMillisecond) ms")
        #expect(timings.last!.delay > 0)
        #expect(timings.last!.delay < 2 * .nanosPerSecond)
        output.close()
        output.close()
    }
}

/// The first executable called `name` on `PATH`, or nil.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
        return "\(directory)/\(name)"
    }
    return nil
}
