import Foundation

/// The TOML configuration file (`tutti.toml`). Every key is optional; unknown keys are an
/// error, so a typo does not silently do nothing.
///
/// ```toml
/// buffer_ms = 1000
/// bind = "0.0.0.0"
/// stream_port = 1704
/// sources = ["pipe:///tmp/snapfifo?name=default", "tone://?name=test&freq=440"]
///
/// [[stream]]
/// source = "file:///srv/music/intro.wav?name=intro&loop=true"
///
/// [speakers."kitchen"]
/// stream = "test"
/// volume = 40
/// ```
///
/// Its own target (with no dependency) so that the fuzzer reaches it without the server.
public struct ConfigFile: Sendable {
    public struct Stream: Sendable { public var source: String }
    public struct Speaker: Sendable {
        public var stream: String?
        public var volume: Int?
        public var muted: Bool?
        public var latency_ms: Int?
    }

    public var buffer_ms: Int?
    public var bind: String?
    public var stream_port: Int?
    public var control_port: Int?
    public var http_port: Int?
    public var data_dir: String?
    public var trusted_networks: [String]?
    public var media_dirs: [String]?
    public var token: String?
    public var time_zone: String?
    public var sources: [String]?
    public var stream: [Stream]?
    public var speakers: [String: Speaker]?

    public init() {}

    /// Sources in file order: `sources = [...]` first, then each `[[stream]]`.
    public var sourceURIs: [String] { (sources ?? []) + (stream ?? []).map(\.source) }

    /// Reads and decodes a config file; every failure is a message naming the file and the problem.
    public static func load(path: String) throws(ConfigFileError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError("cannot read config file \(path): \((error as NSError).localizedDescription)")
        }
        return try decode(text, name: path)
    }

    static let keys: Set<String> = [
        "buffer_ms", "bind", "stream_port", "control_port", "http_port", "data_dir", "trusted_networks", "media_dirs", "token",
        "time_zone", "sources", "stream", "speakers",
    ]
    static let speakerKeys: Set<String> = ["stream", "volume", "muted", "latency_ms"]

    /// Decodes a config file's text; `name` (the file's path) starts every message. Unknown keys
    /// are reported first (all of them), then the first value of the wrong type.
    public static func decode(_ text: String, name: String) throws(ConfigFileError) -> ConfigFile {
        let root: [String: TOMLValue]
        do {
            root = try TOML.parse(text)
        } catch {
            throw ConfigFileError("config file \(name) is not valid TOML: \(error)")
        }
        var unknown = root.keys.filter { !keys.contains($0) }
        if case .table(let speakers)? = root["speakers"] {
            for (id, speaker) in speakers {
                guard case .table(let settings) = speaker else { continue }
                unknown += settings.keys.filter { !speakerKeys.contains($0) }.map { "speakers.\(id).\($0)" }
            }
        }
        if case .array(let streams)? = root["stream"] {
            for (offset, stream) in streams.enumerated() {
                guard case .table(let settings) = stream else { continue }
                unknown += settings.keys.filter { $0 != "source" }.map { "stream[\(offset + 1)].\($0)" }
            }
        }
        guard unknown.isEmpty else { throw ConfigFileError("config file \(name) has unknown keys: \(unknown.sorted().joined(separator: ", "))") }

        do throws(WrongType) {
            var file = ConfigFile()
            file.buffer_ms = try integer(root, "buffer_ms")
            file.bind = try string(root, "bind")
            file.stream_port = try integer(root, "stream_port")
            file.control_port = try integer(root, "control_port")
            file.http_port = try integer(root, "http_port")
            file.data_dir = try string(root, "data_dir")
            file.trusted_networks = try strings(root, "trusted_networks")
            file.media_dirs = try strings(root, "media_dirs")
            file.token = try string(root, "token")
            file.time_zone = try string(root, "time_zone")
            file.sources = try strings(root, "sources")
            if let streams = root["stream"] {
                guard case .array(let elements) = streams else { throw WrongType(path: "stream", expected: "an array of tables ([[stream]])", found: streams) }
                file.stream = []
                for (offset, element) in elements.enumerated() {
                    let path = "stream[\(offset + 1)]"
                    guard case .table(let table) = element else { throw WrongType(path: path, expected: "a table", found: element) }
                    guard let source = try string(table, "source", in: path) else { throw WrongType(path: path + ".source", expected: "a string", found: nil) }
                    file.stream?.append(Stream(source: source))
                }
            }
            if let speakers = root["speakers"] {
                guard case .table(let entries) = speakers else { throw WrongType(path: "speakers", expected: "a table", found: speakers) }
                file.speakers = [:]
                for (id, entry) in entries {
                    let path = "speakers.\(id)"
                    guard case .table(let table) = entry else { throw WrongType(path: path, expected: "a table", found: entry) }
                    file.speakers?[id] = Speaker(
                        stream: try string(table, "stream", in: path), volume: try integer(table, "volume", in: path),
                        muted: try bool(table, "muted", in: path), latency_ms: try integer(table, "latency_ms", in: path))
                }
            }
            return file
        } catch {
            throw ConfigFileError("config file \(name): '\(error.path)' has the wrong type (expected \(error.expected)\(error.found.map { ", found \($0.kind)" } ?? ""))")
        }
    }

    private struct WrongType: Error {
        var path: String
        var expected: String
        var found: TOMLValue?
    }

    private static func join(_ table: String?, _ key: String) -> String { table.map { "\($0).\(key)" } ?? key }

    private static func integer(_ table: [String: TOMLValue], _ key: String, in path: String? = nil) throws(WrongType) -> Int? {
        guard let value = table[key] else { return nil }
        guard case .integer(let number) = value else { throw WrongType(path: join(path, key), expected: "an integer", found: value) }
        return number
    }

    private static func string(_ table: [String: TOMLValue], _ key: String, in path: String? = nil) throws(WrongType) -> String? {
        guard let value = table[key] else { return nil }
        guard case .string(let text) = value else { throw WrongType(path: join(path, key), expected: "a string", found: value) }
        return text
    }

    private static func bool(_ table: [String: TOMLValue], _ key: String, in path: String? = nil) throws(WrongType) -> Bool? {
        guard let value = table[key] else { return nil }
        guard case .bool(let flag) = value else { throw WrongType(path: join(path, key), expected: "true or false", found: value) }
        return flag
    }

    private static func strings(_ table: [String: TOMLValue], _ key: String) throws(WrongType) -> [String]? {
        guard let value = table[key] else { return nil }
        guard case .array(let elements) = value else { throw WrongType(path: key, expected: "an array of strings", found: value) }
        var texts: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw WrongType(path: key, expected: "an array of strings", found: element) }
            texts.append(text)
        }
        return texts
    }
}

/// Why a config file cannot be used, worded for the user.
public struct ConfigFileError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
