import Testing
import TuttiAudio
@testable import TuttiOutputs
import TuttiTiming

@Suite struct OutputURITests {
    @Test(arguments: [
        ("pipe:stdout", OutputURI.pipe(.standardOutput)),
        ("pipe:-", .pipe(.standardOutput)),
        ("PIPE:stdout", .pipe(.standardOutput)),
        ("pipe:/tmp/snap fifo", .pipe(.path("/tmp/snap fifo"))),
        ("file:/tmp/out.wav", .wavFile(path: "/tmp/out.wav")),
        ("file:relative/Take.WAV", .wavFile(path: "relative/Take.WAV")),
        ("null", .null),
        ("null:", .null),
        ("alsa", .alsa(device: "default")),
        ("alsa:", .alsa(device: "default")),
        ("alsa:hw:0,0", .alsa(device: "hw:0,0")),
        ("alsa:plughw:CARD=PCH,DEV=0", .alsa(device: "plughw:CARD=PCH,DEV=0")),
        ("pulse", .pulse(sink: nil)),
        ("pulse:bluez_sink.00_11_22_33_44_55.a2dp_sink", .pulse(sink: "bluez_sink.00_11_22_33_44_55.a2dp_sink")),
    ])
    func parsesEveryForm(spec: String, expected: OutputURI) throws {
        #expect(try OutputURI(parsing: spec) == expected)
        // The canonical form parses back to the same URI.
        #expect(try OutputURI(parsing: expected.description) == expected)
    }

    @Test(arguments: [
        ("speaker", "unknown output 'speaker'; valid outputs are pipe:stdout, pipe:PATH, file:PATH.wav, null, alsa[:DEVICE], pulse[:SINK]"),
        ("", "unknown output ''; valid outputs are pipe:stdout, pipe:PATH, file:PATH.wav, null, alsa[:DEVICE], pulse[:SINK]"),
        ("pipe", "'pipe' needs a destination: pipe:stdout or pipe:PATH"),
        ("pipe:", "'pipe:' needs a destination: pipe:stdout or pipe:PATH"),
        ("file:", "'file:' needs a path: file:PATH.wav"),
        ("file:/tmp/out.raw", "'file:/tmp/out.raw': file outputs write WAV, so the path must end in .wav (use pipe:PATH for raw PCM)"),
        ("null:x", "'null:x': null takes no value"),
    ])
    func refusesWithAMessageThatSaysWhy(spec: String, why: String) {
        let error = outputError { () throws(OutputError) in _ = try OutputURI(parsing: spec) }
        #expect(error == .badURI(why))
        #expect(error?.description == "bad output URI: \(why)")
    }

    @Test func theFactoryOpensVirtualOutputs() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let clock = MonotonicClock()
        let null = try OutputFactory.open("null", format: stereo48k, clock: clock)
        #expect(null is NullOutput)
        let file = try OutputFactory.open("file:\(directory)/a.wav", format: stereo48k, clock: clock)
        #expect(file is WAVFileOutput)
        file.close()
        let pipe = try OutputFactory.open("pipe:\(directory)/a.raw", format: stereo48k, clock: clock)
        #expect(pipe is PipeOutput)
        pipe.close()
        #expect(outputError { () throws(OutputError) in _ = try OutputFactory.open("cd", format: stereo48k, clock: clock) }
            == .badURI("unknown output 'cd'; valid outputs are \(OutputURI.validForms)"))
    }
}
