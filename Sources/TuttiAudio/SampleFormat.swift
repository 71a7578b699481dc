/// The shape of interleaved PCM audio: sample rate, bits per sample and channel count.
///
/// Written the Snapcast way as `rate:bits:channels` (`48000:16:2`). Samples of 24 bits travel in
/// 4-byte little-endian containers, as on Snapcast's wire, so ``bytesPerSample`` is 4 for them.
public struct SampleFormat: Hashable, Sendable, CustomStringConvertible {
    /// Frames per second (a frame is one sample for every channel).
    public var rate: Int
    /// Significant bits per sample: 8, 16, 24 or 32.
    public var bits: Int
    /// Interleaved channels, 1...8.
    public var channels: Int

    /// The Snapcast default, 48 kHz, 16-bit stereo.
    public static let cd48k = SampleFormat(rate: 48_000, bits: 16, channels: 2)

    /// Creates a format; does not validate (see ``init(parsing:)``).
    public init(rate: Int, bits: Int, channels: Int) {
        self.rate = rate
        self.bits = bits
        self.channels = channels
    }

    /// Parses `rate:bits:channels`; throws ``SampleFormatError`` naming what was wrong.
    ///
    /// Accepts rates 1000...768000, bits 8/16/24/32 and 1...8 channels; `*` is not accepted.
    public init(parsing text: some StringProtocol) throws(SampleFormatError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let rate = Int(parts[0]), let bits = Int(parts[1]), let channels = Int(parts[2])
        else { throw .malformed(String(text)) }
        guard (1000...768_000).contains(rate) else { throw .unsupportedRate(rate) }
        guard [8, 16, 24, 32].contains(bits) else { throw .unsupportedBits(bits) }
        guard (1...8).contains(channels) else { throw .unsupportedChannels(channels) }
        self.init(rate: rate, bits: bits, channels: channels)
    }

    /// Bytes one sample occupies: 1, 2 or 4 (24-bit samples sit in 4-byte containers).
    public var bytesPerSample: Int {
        switch bits {
        case ...8: 1
        case ...16: 2
        default: 4
        }
    }

    /// Bytes one frame occupies.
    public var bytesPerFrame: Int { bytesPerSample * channels }

    /// Frames in `milliseconds` of audio, rounded down.
    public func frames(milliseconds: Int) -> Int { rate * milliseconds / 1000 }

    /// Nanoseconds that `frames` last at this rate, rounded down.
    public func nanoseconds(frames: Int) -> Int64 {
        Int64(frames) * 1_000_000_000 / Int64(rate)
    }

    public var description: String { "\(rate):\(bits):\(channels)" }
}

/// Why a sample format string was refused.
public enum SampleFormatError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedRate(Int)
    case unsupportedBits(Int)
    case unsupportedChannels(Int)

    public var description: String {
        switch self {
        case .malformed(let text): "sample format '\(text)' is not rate:bits:channels (e.g. 48000:16:2)"
        case .unsupportedRate(let rate): "sample rate \(rate) is outside 1000...768000"
        case .unsupportedBits(let bits): "\(bits) bits per sample is not one of 8, 16, 24, 32"
        case .unsupportedChannels(let channels): "\(channels) channels is outside 1...8"
        }
    }
}
