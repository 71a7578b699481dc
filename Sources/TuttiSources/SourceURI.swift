import TuttiAudio

/// A parsed Snapcast-style stream URI: which source, its name, format and options.
///
/// Accepted forms (query values are percent-decoded; `+` stays a plus):
/// - `pipe:///path/to/fifo?name=X`
/// - `file:///path/to/file.wav?name=X&loop=true`
/// - `process:///path/to/program?name=X&params=--a%20"b c"` (params split like a shell would:
///   spaces separate, quotes group, backslash escapes)
/// - `tcp://host:port?name=X&mode=server|client` (host defaults to 0.0.0.0, port to 4953,
///   mode to server; port 0 in server mode picks a free port)
/// - `tone://?name=X&kind=tone|sweep|music&freq=440&amplitude=0.5`
/// - `pulse:///SOURCE?name=X&server=unix:/path/native` — line-in: a PulseAudio/PipeWire source
///   (a sink's `NAME.monitor` too; no SOURCE: the default one; `server` optional)
/// - `alsa:///DEVICE?name=X` — line-in straight from an ALSA capture device (`hw:1,0`,
///   `plughw:…`, `default`, `pulse:SOURCE`; no DEVICE: `default`)
///
/// Options common to all: `sampleformat=rate:bits:channels` (default 48000:16:2), `codec=`
/// (default `pcm`; stored lowercased, not checked here), `chunk_ms=` (10...100, default 20).
/// `name` defaults to the path's last component, else the scheme. Options this type does not
/// know are kept in ``options`` (Snapcast has many) and do not make parsing fail.
public struct SourceURI: Equatable, Sendable, CustomStringConvertible {
    /// What the source is, with the options only that kind of source has.
    public enum Kind: Equatable, Sendable {
        case pipe(path: String)
        case file(path: String, loop: Bool)
        case process(path: String, arguments: [String])
        case tcp(host: String, port: Int, mode: TCPMode)
        case signal(kind: SignalKind, frequency: Double, amplitude: Double)
        /// Line-in through PulseAudio or PipeWire (nil: the default source).
        case pulse(source: String?, server: String?)
        /// Line-in straight from an ALSA capture device.
        case alsa(device: String)
    }

    /// Whether a TCP source listens for its producer or connects to it.
    public enum TCPMode: String, Equatable, Sendable {
        case server, client
    }

    /// What `tone://` generates.
    public enum SignalKind: String, Equatable, Sendable, CaseIterable {
        /// A sine at `freq`.
        case tone
        /// A logarithmic sweep from 20 Hz to 20 kHz over 10 s, repeating.
        case sweep
        /// A deterministic music-like signal: chords, stereo spread, percussion.
        case music
    }

    /// Snapcast's default port for `tcp://` sources.
    public static let defaultTCPPort = 4953

    /// The URI as given.
    public var text: String
    /// The scheme-specific part.
    public var kind: Kind
    /// The stream's name (never empty).
    public var name: String
    /// The sample format the URI gave, or nil when it gave none (see ``format``).
    public var explicitFormat: SampleFormat?
    /// The codec name, lowercased (`pcm`, `flac`, `opus`, ...); whether it is supported is the server's call.
    public var codec: String
    /// Milliseconds of audio per chunk, 10...100.
    public var chunkMilliseconds: Int
    /// Options this type does not interpret, decoded, by key (the last value wins for repeated keys).
    public var options: [String: String]

    /// The sample format: ``explicitFormat``, or 48000:16:2 when the URI gave none.
    ///
    /// A `file://` source without an explicit format plays in the file's own format instead;
    /// ``SourceFactory`` takes care of that.
    public var format: SampleFormat { explicitFormat ?? .cd48k }

    /// The scheme as written in URIs (`pipe`, `file`, `process`, `tcp`, `tone`).
    public var scheme: String {
        switch kind {
        case .pipe: "pipe"
        case .file: "file"
        case .process: "process"
        case .tcp: "tcp"
        case .signal: "tone"
        case .pulse: "pulse"
        case .alsa: "alsa"
        }
    }

    public var description: String { text }

    /// Parses `text`; throws ``SourceError/badURI(_:)`` with a message naming what was wrong.
    public init(parsing text: String) throws(SourceError) {
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw .badURI("'\(text)' has no scheme (expected e.g. pipe:///tmp/snapfifo?name=default)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = text[schemeEnd.upperBound...]
        let hierarchy: Substring
        let query: Substring
        if let questionMark = rest.firstIndex(of: "?") {
            hierarchy = rest[..<questionMark]
            query = rest[rest.index(after: questionMark)...]
        } else {
            hierarchy = rest
            query = ""
        }
        var values = try Self.parseQuery(query)
        let path = try Self.percentDecoded(hierarchy)

        func take(_ key: String) -> String? { values.removeValue(forKey: key) }

        let kind: Kind
        var defaultName = scheme
        switch scheme {
        case "pipe", "file", "process":
            guard !path.isEmpty, path != "/" else { throw .badURI("\(scheme):// needs a path, as in \(scheme):///path/to/it") }
            if let last = path.split(separator: "/").last { defaultName = String(last) }
            switch scheme {
            case "pipe":
                kind = .pipe(path: path)
            case "file":
                kind = .file(path: path, loop: try Self.bool(take("loop") ?? "false", key: "loop"))
            default:
                kind = .process(path: path, arguments: try ShellWords.split(take("params") ?? ""))
            }
        case "tcp":
            let (host, port) = try Self.hostAndPort(path)
            let modeText = take("mode") ?? "server"
            guard let mode = TCPMode(rawValue: modeText.lowercased()) else {
                throw .badURI("mode '\(modeText)' is neither server nor client")
            }
            if mode == .client, port == 0 { throw .badURI("tcp client mode needs a port other than 0") }
            kind = .tcp(host: host, port: port, mode: mode)
        case "tone":
            let kindText = take("kind") ?? "tone"
            guard let signal = SignalKind(rawValue: kindText.lowercased()) else {
                throw .badURI("kind '\(kindText)' is not one of tone, sweep, music")
            }
            let frequency = try Self.number(take("freq") ?? "440", key: "freq", in: 1...100_000)
            let amplitude = try Self.number(take("amplitude") ?? "0.5", key: "amplitude", in: 0...1)
            kind = .signal(kind: signal, frequency: frequency, amplitude: amplitude)
        case "pulse":
            let source = path.drop { $0 == "/" }
            kind = .pulse(source: source.isEmpty ? nil : String(source), server: take("server"))
            defaultName = source.isEmpty ? "line-in" : String(source)
        case "alsa":
            let device = path.drop { $0 == "/" }
            kind = .alsa(device: device.isEmpty ? "default" : String(device))
            defaultName = "line-in"
        default:
            throw .badURI("unsupported scheme '\(scheme)' (supported: pipe, file, process, tcp, tone, pulse, alsa)")
        }

        var explicitFormat: SampleFormat?
        if let formatText = take("sampleformat") {
            do {
                explicitFormat = try SampleFormat(parsing: formatText)
            } catch {
                throw .badURI(error.description)
            }
        }
        let rate = (explicitFormat ?? .cd48k).rate
        if case .signal(_, let frequency, _) = kind, frequency * 2 >= Double(rate) {
            throw .badURI("freq \(frequency) is not below half the sample rate \(rate)")
        }
        // FLAC by default, as Snapcast does, where FLAC can carry the format (16/24-bit).
        let codecText = take("codec") ?? ([16, 24].contains((explicitFormat ?? .cd48k).bits) ? "flac" : "pcm")
        guard !codecText.isEmpty else { throw .badURI("codec must not be empty") }
        let chunkMilliseconds = try Self.number(take("chunk_ms") ?? "20", key: "chunk_ms", in: 10...100, integer: true)
        let nameText = take("name") ?? defaultName
        guard !nameText.isEmpty else { throw .badURI("name must not be empty") }

        self.text = text
        self.kind = kind
        self.name = nameText
        self.explicitFormat = explicitFormat
        self.codec = codecText.lowercased()
        self.chunkMilliseconds = Int(chunkMilliseconds)
        self.options = values
    }

    /// `host:port`, `host`, `:port`, `[v6]:port` or empty.
    private static func hostAndPort(_ authority: String) throws(SourceError) -> (String, Int) {
        var authority = Substring(authority)
        while authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains("/") else { throw .badURI("tcp:// takes host:port, not a path ('\(authority)')") }
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .badURI("'\(authority)' has an unclosed [") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badURI("unexpected '\(after)' after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        var port = defaultTCPPort
        if let portText {
            guard let value = Int(portText), (0...65_535).contains(value) else {
                throw .badURI("port '\(portText)' is not a number in 0...65535")
            }
            port = value
        }
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }

    private static func parseQuery(_ query: Substring) throws(SourceError) -> [String: String] {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try percentDecoded(parts[0])
            guard !key.isEmpty else { throw .badURI("option '\(pair)' has no name") }
            values[key] = parts.count > 1 ? try percentDecoded(parts[1]) : ""
        }
        return values
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits, or bytes that are not UTF-8, throw.
    static func percentDecoded(_ text: Substring) throws(SourceError) -> String {
        guard text.contains("%") else { return String(text) }
        let utf8 = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) else {
                    throw .badURI("'\(text)' has a % that is not followed by two hex digits")
                }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .badURI("'\(text)' does not decode to UTF-8 text")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func bool(_ text: String, key: String) throws(SourceError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on", "": true
        case "false", "0", "no", "off": false
        default: throw .badURI("\(key)='\(text)' is not true or false")
        }
    }

    private static func number(
        _ text: String, key: String, in range: ClosedRange<Double>, integer: Bool = false
    ) throws(SourceError) -> Double {
        guard let value = Double(text), value.isFinite, !integer || value == value.rounded() else {
            throw .badURI("\(key)='\(text)' is not \(integer ? "an integer" : "a number")")
        }
        guard range.contains(value) else {
            let bounds = integer ? "\(Int(range.lowerBound))...\(Int(range.upperBound))" : "\(range.lowerBound)...\(range.upperBound)"
            throw .badURI("\(key)=\(text) is outside \(bounds)")
        }
        return value
    }
}

/// Splits a command line into words the way a POSIX shell would, without expanding anything.
enum ShellWords {
    /// Spaces and tabs separate words; `"..."` and `'...'` group; a backslash escapes the next
    /// character (outside single quotes). An unterminated quote throws ``SourceError/badURI(_:)``.
    static func split(_ line: String) throws(SourceError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
                inWord = true
            case (nil, "\""), (nil, "'"):
                quote = character
                inWord = true
            case (let open?, _) where character == open:
                quote = nil
            case (nil, " "), (nil, "\t"):
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { throw .badURI("params '\(line)' has an unterminated quote or escape") }
        if inWord { words.append(current) }
        return words
    }
}
