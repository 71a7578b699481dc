/// Every change to the system, whoever asks for it: a speaker's session, a JSON-RPC call, the
/// CLI, a routine. Applied by ``SystemModel/applying(_:at:newID:)``.
public enum Command: Sendable, Equatable {
    // What speakers' sessions report.
    case speakerConnected(SpeakerHello)
    case speakerDisconnected(id: String)
    /// The speaker changed its own volume or mute (Snapcast's ClientInfo).
    case speakerReported(id: String, volume: Int, muted: Bool)
    case speakerSyncStatus(id: String, SyncStatus)
    /// A speaker host's full list of its speakers that do not play, and why: each is marked
    /// (one the server never saw is added, disconnected, so it is not silently missing), and
    /// what the host reported before and no longer does is cleared.
    case hostReportedExclusions(host: String, [ExcludedSpeaker])

    // What users ask for.
    case setVolume(speaker: String, percent: Int?, muted: Bool?)
    /// The speaker's latency in µs (Snapcast's API sets whole ms; a calibration finer).
    case setLatency(speaker: String, microseconds: Int)
    /// The speaker's level trim, dB (``SystemModel/trimRange``).
    case setTrim(speaker: String, decibels: Double)
    case setName(speaker: String, name: String)
    case setChannel(speaker: String, AudioChannel)
    case deleteSpeaker(String)
    case setGroupMute(group: String, muted: Bool)
    case setGroupStream(group: String, stream: String)
    case setGroupName(group: String, name: String)
    /// Snapcast's Group.SetClients: the group's members become exactly these speakers.
    case setGroupClients(group: String, speakers: [String])
    /// Moves every member's volume so that their mean is `percent`, keeping their ratios.
    case setGroupVolume(group: String, percent: Int)
    /// A new group of these speakers (taken from their groups), playing `stream` or, if nil,
    /// the stream of the first speaker's group.
    case createGroup(name: String, speakers: [String], stream: String?)
    /// Every member (stereo pairs together) into a group of its own, playing the same stream.
    case dissolveGroup(String)
    case addStream(StreamInfo)
    case removeStream(String)
    case setStreamStatus(String, StreamInfo.Status)
    /// On: every speaker into one "Everywhere" group playing `stream` (nil: the stream of the
    /// group with the most connected speakers). Off: the grouping from before, restored.
    case setPartyMode(on: Bool, stream: String?)
    case createPair(left: String, right: String, name: String?)
    case deletePair(String)
    /// Creates the routine (an empty ID: a new one), or replaces the one with its ID.
    case putRoutine(Routine)
    case deleteRoutine(String)
}

/// What a speaker says about itself when it connects (from a Snapcast Hello, or another
/// protocol's equivalent), plus the address it connected from.
public struct SpeakerHello: Sendable, Equatable {
    public var id: String
    public var host: HostInfo
    public var software: SoftwareInfo
    public var instance: Int
    public var capabilities: [String]

    public init(id: String, host: HostInfo, software: SoftwareInfo, instance: Int = 1, capabilities: [String] = []) {
        self.id = id
        self.host = host
        self.software = software
        self.instance = instance
        self.capabilities = capabilities
    }
}

/// What a command made, when it made something.
public enum CommandResult: Sendable, Equatable {
    case done
    case createdGroup(String)
    case createdPair(String)
    case createdStream(String)
    case savedRoutine(String)
}
