import Testing
import TuttiAudio
@testable import TuttiSources

@Suite("SourceURI")
struct SourceURITests {
    struct Valid: CustomTestStringConvertible, Sendable {
        var uri: String
        var kind: SourceURI.Kind
        var name: String
        var format: SampleFormat? = nil
        var codec = "flac"
        var chunkMilliseconds = 20
        var options: [String: String] = [:]
        var testDescription: String { uri }
    }

    static let valid: [Valid] = [
        Valid(uri: "pipe:///tmp/snapfifo?name=default", kind: .pipe(path: "/tmp/snapfifo"), name: "default"),
        Valid(uri: "pipe:///tmp/snapfifo", kind: .pipe(path: "/tmp/snapfifo"), name: "snapfifo"),
        Valid(
            uri: "pipe:///tmp/fifo?name=Living%20Room&sampleformat=44100:16:2&codec=FLAC&chunk_ms=10",
            kind: .pipe(path: "/tmp/fifo"), name: "Living Room", format: SampleFormat(rate: 44_100, bits: 16, channels: 2),
            codec: "flac", chunkMilliseconds: 10
        ),
        Valid(uri: "pipe:///tmp/my%20fifo?name=x", kind: .pipe(path: "/tmp/my fifo"), name: "x"),
        Valid(
            uri: "pipe:///tmp/f?name=a&mode=create&dryout_ms=2000&controlscript=meta_mpd.py",
            kind: .pipe(path: "/tmp/f"), name: "a", options: ["mode": "create", "dryout_ms": "2000", "controlscript": "meta_mpd.py"]
        ),
        Valid(uri: "file:///music/a.wav?name=A&loop=true", kind: .file(path: "/music/a.wav", loop: true), name: "A"),
        Valid(uri: "file:///music/a.wav", kind: .file(path: "/music/a.wav", loop: false), name: "a.wav"),
        Valid(uri: "file:///a.wav?loop", kind: .file(path: "/a.wav", loop: true), name: "a.wav"),
        Valid(uri: "file:///a.wav?loop=0&codec=opus", kind: .file(path: "/a.wav", loop: false), name: "a.wav", codec: "opus"),
        Valid(
            uri: "process:///bin/sh?name=sh&params=-c%20%22printf%20abc%22",
            kind: .process(path: "/bin/sh", arguments: ["-c", "printf abc"]), name: "sh"
        ),
        Valid(
            uri: "process:///usr/bin/librespot?params=--name%20Tutti%20--backend%20pipe%20--bitrate+320",
            kind: .process(path: "/usr/bin/librespot", arguments: ["--name", "Tutti", "--backend", "pipe", "--bitrate+320"]),
            name: "librespot"
        ),
        Valid(uri: "process:///bin/cat", kind: .process(path: "/bin/cat", arguments: []), name: "cat"),
        Valid(
            uri: "process:///bin/echo?params=%27a%20b%27%20c%5C%20d",
            kind: .process(path: "/bin/echo", arguments: ["a b", "c d"]), name: "echo"
        ),
        Valid(uri: "tcp://127.0.0.1:4953?name=t&mode=server", kind: .tcp(host: "127.0.0.1", port: 4953, mode: .server), name: "t"),
        Valid(uri: "tcp://0.0.0.0?name=t", kind: .tcp(host: "0.0.0.0", port: 4953, mode: .server), name: "t"),
        Valid(uri: "tcp://?name=t", kind: .tcp(host: "0.0.0.0", port: 4953, mode: .server), name: "t"),
        Valid(uri: "tcp://music.local:5000?name=t&mode=client", kind: .tcp(host: "music.local", port: 5000, mode: .client), name: "t"),
        Valid(uri: "tcp://[::1]:6000?mode=CLIENT", kind: .tcp(host: "::1", port: 6000, mode: .client), name: "tcp"),
        Valid(uri: "tcp://127.0.0.1:0", kind: .tcp(host: "127.0.0.1", port: 0, mode: .server), name: "tcp"),
        Valid(uri: "tone://?name=beep&freq=1000", kind: .signal(kind: .tone, frequency: 1000, amplitude: 0.5), name: "beep"),
        Valid(uri: "tone://", kind: .signal(kind: .tone, frequency: 440, amplitude: 0.5), name: "tone"),
        Valid(uri: "tone:///?kind=sweep", kind: .signal(kind: .sweep, frequency: 440, amplitude: 0.5), name: "tone"),
        Valid(
            uri: "TONE://?name=demo&kind=music&amplitude=0.25&sampleformat=44100:24:2",
            kind: .signal(kind: .music, frequency: 440, amplitude: 0.25), name: "demo",
            format: SampleFormat(rate: 44_100, bits: 24, channels: 2)
        ),
        Valid(uri: "pulse:///?name=line", kind: .pulse(source: nil, server: nil), name: "line"),
        Valid(
            uri: "pulse:///alsa_input.usb?name=in&server=unix:/run/p/native",
            kind: .pulse(source: "alsa_input.usb", server: "unix:/run/p/native"), name: "in"
        ),
        Valid(uri: "alsa:///?name=x", kind: .alsa(device: "default"), name: "x"),
        Valid(uri: "alsa:///hw:1,0?name=in", kind: .alsa(device: "hw:1,0"), name: "in"),
        Valid(uri: "tone://?name=a&&name=b", kind: .signal(kind: .tone, frequency: 440, amplitude: 0.5), name: "b"),
    ]

    @Test("valid URIs", arguments: valid)
    func parsesValid(_ case: Valid) throws {
        let uri = try SourceURI(parsing: `case`.uri)
        #expect(uri.kind == `case`.kind)
        #expect(uri.name == `case`.name)
        #expect(uri.explicitFormat == `case`.format)
        #expect(uri.format == (`case`.format ?? .cd48k))
        #expect(uri.codec == `case`.codec)
        #expect(uri.chunkMilliseconds == `case`.chunkMilliseconds)
        #expect(uri.options == `case`.options)
        #expect(uri.description == `case`.uri)
    }

    static let invalid: [(uri: String, mentions: String)] = [
        ("/tmp/snapfifo", "no scheme"),
        ("", "no scheme"),
        ("airplay:///?name=x", "unsupported scheme 'airplay'"),
        ("librespot:///usr/bin/librespot?name=x", "unsupported scheme"),
        ("pipe://?name=x", "needs a path"),
        ("pipe:///?name=x", "needs a path"),
        ("file://", "needs a path"),
        ("pipe:///tmp/f?name=", "name must not be empty"),
        ("pipe:///tmp/f?sampleformat=48000:16", "rate:bits:channels"),
        ("pipe:///tmp/f?sampleformat=48000:12:2", "12 bits"),
        ("pipe:///tmp/f?sampleformat=48000:16:0", "channels"),
        ("pipe:///tmp/f?sampleformat=*:16:2", "rate:bits:channels"),
        ("pipe:///tmp/f?chunk_ms=5", "chunk_ms=5 is outside 10...100"),
        ("pipe:///tmp/f?chunk_ms=500", "outside"),
        ("pipe:///tmp/f?chunk_ms=abc", "not an integer"),
        ("pipe:///tmp/f?chunk_ms=20.5", "not an integer"),
        ("pipe:///tmp/f?codec=", "codec must not be empty"),
        ("pipe:///tmp/f%2?name=x", "two hex digits"),
        ("pipe:///tmp/f?name=%zz", "two hex digits"),
        ("pipe:///tmp/f?name=%ff", "UTF-8"),
        ("pipe:///tmp/f?=x", "has no name"),
        ("file:///a.wav?loop=maybe", "loop='maybe'"),
        ("process:///bin/sh?params=-c%20%22unterminated", "unterminated"),
        ("tcp://127.0.0.1:99999?name=x", "port '99999'"),
        ("tcp://127.0.0.1:port", "port 'port'"),
        ("tcp://127.0.0.1:4953?mode=both", "mode 'both'"),
        ("tcp://127.0.0.1:0?mode=client", "port other than 0"),
        ("tcp://[::1:4953", "unclosed"),
        ("tcp://host:1/path", "not a path"),
        ("tone://?kind=noise", "kind 'noise'"),
        ("tone://?freq=-5", "freq=-5 is outside"),
        ("tone://?freq=nan", "not a number"),
        ("tone://?freq=30000", "below half the sample rate"),
        ("tone://?freq=5000&sampleformat=8000:16:1", "below half"),
        ("tone://?amplitude=2", "amplitude=2 is outside"),
    ]

    @Test("invalid URIs throw badURI naming the problem", arguments: invalid)
    func refusesInvalid(uri: String, mentions: String) {
        do {
            let parsed = try SourceURI(parsing: uri)
            Issue.record("parsed as \(parsed.kind)")
        } catch {
            guard case .badURI(let why) = error else {
                Issue.record("threw \(error), not badURI")
                return
            }
            #expect(why.contains(mentions), "\(why)")
            #expect(error.description.hasPrefix("bad source URI: "))
        }
    }

    @Test("shell-like splitting of params", arguments: [
        ("", [String]()),
        ("  a   b ", ["a", "b"]),
        ("-c \"printf abc\"", ["-c", "printf abc"]),
        ("'it''s' x", ["its", "x"]),
        ("a\\ b \"c\\\"d\"", ["a b", "c\"d"]),
        ("\"\"", [""]),
    ])
    func shellWords(line: String, words: [String]) throws {
        #expect(try ShellWords.split(line) == words)
    }

    @Test("percent-decoding")
    func percentDecoding() throws {
        #expect(try SourceURI.percentDecoded("a%20b%2Fc+d%C3%A9") == "a b/c+dé")
        #expect(try SourceURI.percentDecoded("plain") == "plain")
        #expect(throws: SourceError.self) { try SourceURI.percentDecoded("%") }
    }
}

@Suite("RestartBackoff")
struct RestartBackoffTests {
    @Test("doubles from 250 ms to a 10 s cap and resets after a 10 s run")
    func doublingAndReset() {
        var backoff = RestartBackoff()
        let ms = Int64.nanosPerMillisecond
        let delays = (0..<8).map { _ in backoff.delay(afterRunLasting: 0) / ms }
        #expect(delays == [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000])
        #expect(backoff.delay(afterRunLasting: 9_999 * ms) == 10_000 * ms)
        #expect(backoff.delay(afterRunLasting: 10_000 * ms) == 250 * ms)
        #expect(backoff.delay(afterRunLasting: 0) == 500 * ms)
    }
}
