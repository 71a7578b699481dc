/// A speaker known from the configuration file before it ever connects.
public struct SpeakerSeed: Sendable, Equatable {
    public var id: String
    public var volume: Int
    public var muted: Bool
    public var latencyMs: Int
    /// The stream its group plays; nil or unknown: the default stream.
    public var streamID: String?

    public init(id: String, volume: Int = 100, muted: Bool = false, latencyMs: Int = 0, streamID: String? = nil) {
        self.id = id
        self.volume = volume
        self.muted = muted
        self.latencyMs = latencyMs
        self.streamID = streamID
    }
}

extension SystemModel {
    /// Adds the configuration file's speakers (on the store's first start only: after that the
    /// store is the truth). Each is disconnected until it connects, in a group of its own
    /// playing its stream. Speakers the model already has are left as they are.
    public mutating func seed(_ seeds: [SpeakerSeed], newID: () -> String) {
        for seed in seeds where speaker(seed.id) == nil {
            speakers.append(Speaker(
                id: seed.id, volume: max(0, min(100, seed.volume)), muted: seed.muted,
                latencyMicroseconds: max(Self.latencyRange.lowerBound, min(Self.latencyRange.upperBound, seed.latencyMs)) * 1000))
            let stream = seed.streamID.flatMap { self.stream($0)?.id } ?? defaultStreamID
            groups.append(SpeakerGroup(id: newID(), streamID: stream, speakerIDs: [seed.id]))
        }
    }

    /// Removes a stream that could not be opened at start, whatever its origin (its groups
    /// fall back to the default stream).
    public mutating func dropUnavailableStream(_ id: String) {
        guard id != defaultStreamID else { return }
        streams.removeAll { $0.id == id }
        for index in groups.indices where groups[index].streamID == id { groups[index].streamID = defaultStreamID }
    }
}
