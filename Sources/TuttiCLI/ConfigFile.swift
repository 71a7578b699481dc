import Foundation
import TOMLKit
import TuttiServer

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
struct ConfigFile: Decodable {
    struct Stream: Decodable { var source: String }
    struct Speaker: Decodable {
        var stream: String?
        var volume: Int?
        var muted: Bool?
        var latency_ms: Int?
    }

    var buffer_ms: Int?
    var bind: String?
    var stream_port: Int?
    var control_port: Int?
    var http_port: Int?
    var data_dir: String?
    var trusted_networks: [String]?
    var media_dirs: [String]?
    var token: String?
    var time_zone: String?
    var sources: [String]?
    var stream: [Stream]?
    var speakers: [String: Speaker]?

    /// Sources in file order: `sources = [...]` first, then each `[[stream]]`.
    var sourceURIs: [String] { (sources ?? []) + (stream ?? []).map(\.source) }

    var speakerSettings: [String: ServerConfiguration.SpeakerSettings] {
        (speakers ?? [:]).mapValues { speaker in
            ServerConfiguration.SpeakerSettings(
                stream: speaker.stream, volume: speaker.volume ?? 100, muted: speaker.muted ?? false,
                latencyMs: speaker.latency_ms ?? 0)
        }
    }

    /// Reads and decodes a config file; every failure is a message naming the file and the problem.
    static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read config file \(path): \((error as NSError).localizedDescription)")
        }
        do {
            return try TOMLDecoder(strictDecoding: true).decode(ConfigFile.self, from: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError("config file \(path) is not valid TOML: \(error)")
        } catch let error as UnexpectedKeysError {
            let keys = error.keys.keys.sorted().joined(separator: ", ")
            throw ConfigurationError("config file \(path) has unknown keys: \(keys)")
        } catch let error as DecodingError {
            throw ConfigurationError("config file \(path): \(describe(error))")
        } catch {
            throw ConfigurationError("config file \(path): \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type (expected \(type))"
        case .keyNotFound(let key, let context):
            // Every key is optional, so TOMLKit reports a value of the wrong type this way.
            "'\((context.codingPath.last?.stringValue == key.stringValue ? context.codingPath : context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context):
            "invalid value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        @unknown default:
            "\(error)"
        }
    }
}
