/// A set of speakers that play one stream in sync. Every speaker is in exactly one group;
/// a group with no speakers does not exist.
public struct SpeakerGroup: Sendable, Equatable, Codable {
    public var id: String
    /// The user's name for it; may be empty (Snapcast's groups start unnamed).
    public var name: String
    public var streamID: String
    public var muted: Bool
    /// Member speaker IDs, in the order they joined.
    public var speakerIDs: [String]

    public init(id: String, name: String = "", streamID: String, muted: Bool = false, speakerIDs: [String]) {
        self.id = id
        self.name = name
        self.streamID = streamID
        self.muted = muted
        self.speakerIDs = speakerIDs
    }
}

/// Two speakers bonded as one: one plays the left channel, the other the right. They are
/// always in the same group, and volume and mute set on one apply to both.
public struct StereoPair: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var left: String
    public var right: String

    public init(id: String, name: String, left: String, right: String) {
        self.id = id
        self.name = name
        self.left = left
        self.right = right
    }

    public var members: [String] { [left, right] }

    public func contains(_ speakerID: String) -> Bool { left == speakerID || right == speakerID }

    /// The other member of the pair.
    public func partner(of speakerID: String) -> String? {
        speakerID == left ? right : speakerID == right ? left : nil
    }
}

/// Party mode: every speaker in one "Everywhere" group, and the grouping to go back to.
public struct PartyMode: Sendable, Equatable, Codable {
    /// The Everywhere group's ID.
    public var groupID: String
    /// The groups as they were when party mode was switched on (members, names, streams, mutes).
    public var savedGroups: [SpeakerGroup]

    public init(groupID: String, savedGroups: [SpeakerGroup]) {
        self.groupID = groupID
        self.savedGroups = savedGroups
    }
}
