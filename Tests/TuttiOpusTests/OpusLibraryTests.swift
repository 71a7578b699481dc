import Testing
import TuttiAudio
@testable import TuttiOpus

/// Without libopus, making an Opus stream fails with an error naming the Debian package; these
/// run on every machine (they inject a missing library).
@Suite struct OpusLibraryTests {
    static let missing = OpusError.libraryMissing(name: "libopus-tutti-missing.so.0", package: "libopus0")

    @Test func aMissingLibraryNamesTheDebianPackage() {
        #expect(throws: Self.missing) { try OpusFunctions(name: "libopus-tutti-missing.so.0") }
        #expect(Self.missing.description.contains("apt-get install libopus0"))
    }

    @Test func theEncoderReportsTheMissingLibrary() {
        #expect(throws: Self.missing) {
            try OpusEncoder(format: stereo48k, bitrate: 192_000, complexity: 10, application: .restrictedLowDelay,
                            library: .failure(Self.missing))
        }
    }

    @Test func theDecoderReportsTheMissingLibraryNamingThePackage() {
        do {
            _ = try OpusDecoder(header: OpusCodecHeader(format: stereo48k).bytes, library: .failure(Self.missing))
            Issue.record("decoder made without a library")
        } catch {
            guard case .libraryUnavailable(let codec, let text) = error else { Issue.record("got \(error)"); return }
            #expect(codec == "opus")
            #expect(text.contains("libopus0"))
        }
    }

    @Test func formatChecksComeBeforeTheLibrary() {
        let format = SampleFormat(rate: 44_100, bits: 16, channels: 2)
        #expect(throws: OpusError.unsupportedFormat("44100 Hz; Opus streams run at 48000 Hz (resample the source)")) {
            try OpusEncoder(format: format, bitrate: 192_000, complexity: 10, application: .restrictedLowDelay,
                            library: .failure(Self.missing))
        }
    }

    @Test func eitherTheLibraryLoadsOrItsAbsenceNamesThePackage() {
        if let error = OpusLibrary.loadError {
            #expect(error == .libraryMissing(name: OpusFunctions.libraryName, package: "libopus0"))
            #expect(throws: error) { try OpusEncoder(format: stereo48k) }
        } else {
            #expect(OpusLibrary.isAvailable)
        }
    }

    @Test(.enabled(if: OpusLibrary.isAvailable, "needs libopus (apt-get install libopus0)"))
    func theInstalledLibraryLoads() {
        #expect(OpusLibrary.loadError == nil)
        #expect(OpusLibrary.version?.hasPrefix("libopus") == true)
    }
}
