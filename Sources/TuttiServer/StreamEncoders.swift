import TuttiAudio
import TuttiFLAC
import TuttiOpus
import TuttiSources

/// Makes the encoder a stream's URI asks for: `codec=pcm`, `codec=flac` (optionally
/// `codec=flac:LEVEL`, level 0–8, default 2 as Snapcast uses) or `codec=opus` (optionally
/// `codec=opus:BITRATE` in bit/s). One encoder per stream; every speaker gets its output.
public enum StreamEncoders {
    /// The codec name and its option (`flac:5` → ("flac", "5")).
    static func split(_ codec: String) -> (name: String, option: String?) {
        let parts = codec.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts.first?.lowercased() ?? "", parts.count > 1 ? parts[1] : nil)
    }

    /// Whether `codec` names a codec the server can encode (checked before anything starts).
    public static func problem(codec: String, format: SampleFormat) -> String? {
        let (name, option) = split(codec)
        switch name {
        case "pcm":
            return option == nil ? nil : "codec pcm takes no option"
        case "flac":
            guard format.bits == 16 || format.bits == 24 else { return "FLAC streams need 16- or 24-bit samples, not \(format.bits)" }
            if let option, !(Int(option).map { (0...8).contains($0) } ?? false) { return "FLAC level '\(option)' is not 0...8" }
            return nil
        case "opus":
            guard format.rate == 48_000, format.bits == 16, format.channels <= 2 else {
                return "Opus streams need 48000:16:1 or 48000:16:2, not \(format)"
            }
            if let option, !(Int(option).map { (6_000...510_000).contains($0) } ?? false) { return "Opus bitrate '\(option)' is not 6000...510000" }
            if !OpusLibrary.isAvailable { return "codec opus needs libopus (apt-get install libopus0)" }
            return nil
        default:
            return "codec '\(codec)' is not one of pcm, flac, opus"
        }
    }

    /// Makes the encoder; call ``problem(codec:format:)`` first (this assumes it returned nil).
    public static func make(codec: String, format: SampleFormat) throws -> any AudioEncoder {
        let (name, option) = split(codec)
        switch name {
        case "flac": return FLACEncoder(format: format, level: option.flatMap(Int.init) ?? 2)
        case "opus": return try OpusEncoder(format: format, bitrate: option.flatMap(Int.init) ?? 192_000)
        default: return PCMEncoder(format: format)
        }
    }
}
