/// A speaker as the server knows it: who it is, what the user set for it, and how it is doing.
///
/// A speaker is created the first time it connects (or from the configuration file's
/// `[speakers]` on a first start) and stays known, connected or not, until it is deleted.
/// Everything but ``connected``, ``sync`` and the host's address is state the user set or the
/// speaker reported, and is stored.
public struct Speaker: Sendable, Equatable, Codable {
    /// Snapcast's client ID: the Hello's `ID` (or its MAC), plus `#instance` when not 1.
    public var id: String
    /// The name the user gave; empty means "not named", and the host name is shown.
    public var name: String
    public var host: HostInfo
    public var software: SoftwareInfo
    public var instance: Int
    public var connected: Bool
    /// When the speaker was last connected (wall clock).
    public var lastSeen: WallTime
    /// 0...100.
    public var volume: Int
    public var muted: Bool
    /// Microseconds this speaker plays earlier, to make up for a slow output (Snapcast's
    /// latency, which is whole milliseconds; a calibration measures finer).
    public var latencyMicroseconds: Int
    public var channel: AudioChannel
    /// A level trim under the user's volume, dB (≤ 0): what makes a loud speaker as loud as
    /// the others of its group at one volume (a calibration measures it). Tutti speakers only.
    public var trimDB: Double
    /// What the speaker said it can do (Tutti speakers: `channel`, `status`, …; snapclient: none).
    public var capabilities: [String]
    /// The speaker's latest report of its own sync, if it sends reports. Not stored.
    public var sync: SyncStatus?
    /// Why this speaker is left out of playing, as its host says (a Bluetooth speaker out of
    /// range, beyond its adapter's limit, with no sink…); nil when it is not. Not stored.
    public var exclusion: Exclusion?

    public init(
        id: String, name: String = "", host: HostInfo = HostInfo(), software: SoftwareInfo = SoftwareInfo(), instance: Int = 1,
        connected: Bool = false, lastSeen: WallTime = WallTime(), volume: Int = 100, muted: Bool = false, latencyMicroseconds: Int = 0,
        channel: AudioChannel = .stereo, trimDB: Double = 0, capabilities: [String] = [], sync: SyncStatus? = nil, exclusion: Exclusion? = nil
    ) {
        self.exclusion = exclusion
        self.id = id
        self.name = name
        self.host = host
        self.software = software
        self.instance = instance
        self.connected = connected
        self.lastSeen = lastSeen
        self.volume = volume
        self.muted = muted
        self.latencyMicroseconds = latencyMicroseconds
        self.channel = channel
        self.trimDB = trimDB
        self.capabilities = capabilities
        self.sync = sync
    }

    /// The latency in whole milliseconds, rounded (what Snapcast's protocol carries).
    public var latencyMs: Int { Self.wholeMilliseconds(latencyMicroseconds) }

    /// Microseconds rounded to the nearest millisecond (halves away from zero).
    public static func wholeMilliseconds(_ microseconds: Int) -> Int {
        Int((Double(microseconds) / 1000).rounded(.toNearestOrAwayFromZero))
    }

    /// The name people see: the user's name, else the host name, else the ID.
    public var displayName: String {
        if !name.isEmpty { return name }
        return host.name.isEmpty ? id : host.name
    }
}

/// The host a speaker runs on, as its Hello describes it.
public struct HostInfo: Sendable, Equatable, Codable {
    public var name: String
    public var mac: String
    public var ip: String
    public var os: String
    public var arch: String

    public init(name: String = "", mac: String = "", ip: String = "", os: String = "", arch: String = "") {
        self.name = name
        self.mac = mac
        self.ip = ip
        self.os = os
        self.arch = arch
    }
}

/// The speaker program: `Snapclient 0.26.0 (protocol 2)`, `Tutti 0.26.0 (protocol 2)`.
public struct SoftwareInfo: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    public var protocolVersion: Int

    public init(name: String = "", version: String = "", protocolVersion: Int = 2) {
        self.name = name
        self.version = version
        self.protocolVersion = protocolVersion
    }
}

/// Which part of the stream a speaker plays.
public enum AudioChannel: String, Sendable, Codable, CaseIterable {
    /// The stream as it is.
    case stereo
    /// The left channel, on every output channel (the left speaker of a stereo pair).
    case left
    /// The right channel, on every output channel.
    case right
    /// Left and right mixed, on every output channel.
    case mono
}

/// A wall-clock instant as Snapcast writes it (`lastSeen {sec, usec}`).
public struct WallTime: Sendable, Equatable, Codable, Comparable {
    public var sec: Int
    public var usec: Int

    public init(sec: Int = 0, usec: Int = 0) {
        self.sec = sec
        self.usec = usec
    }

    /// From seconds since 1970.
    public init(seconds: Double) {
        let whole = seconds.rounded(.down)
        self.init(sec: Int(whole), usec: Int(((seconds - whole) * 1e6).rounded(.down)))
    }

    public static func < (a: WallTime, b: WallTime) -> Bool { (a.sec, a.usec) < (b.sec, b.usec) }
}

/// Why a speaker does not play, as the speaker host it belongs to reports it.
public struct Exclusion: Sendable, Equatable, Codable {
    /// Short and stable: "out-of-range", "adapter-limit", "no-sink", "delay-too-large", "disconnected", …
    public var code: String
    /// For people: what is wrong and what would help.
    public var message: String
    /// The speaker host that reported it (its speaker ID).
    public var host: String

    public init(code: String, message: String, host: String) {
        self.code = code
        self.message = message
        self.host = host
    }
}

/// Whether a speaker plays, and if not, why (``SystemModel/playState(of:)``).
public struct PlayState: Sendable, Equatable {
    public enum State: String, Sendable {
        case playing, muted, silent, offline, excluded
    }

    public var state: State
    public var code: String
    public var reason: String
}

/// A speaker host's report of one of its speakers that does not play, and why.
public struct ExcludedSpeaker: Sendable, Equatable {
    public var id: String
    public var name: String
    public var code: String
    public var message: String

    public init(id: String, name: String, code: String, message: String) {
        self.id = id
        self.name = name
        self.code = code
        self.message = message
    }
}

/// A speaker's own report of how well it plays in sync (Tutti speakers send one about once a
/// second to a server that asks for it). The speaker's opinion, for display — sync is measured
/// from outside.
public struct SyncStatus: Sendable, Equatable, Codable {
    /// Whether its clock is locked to the server's.
    public var locked: Bool
    /// The estimated standard error of its clock offset, µs.
    public var clockErrorMicroseconds: Double
    /// The server clock's rate relative to the speaker's, ppm.
    public var ratePPM: Double
    /// Audio buffered ahead of the output, ms.
    public var bufferMs: Double
    /// The output's own delay (sound card, Bluetooth), ms.
    public var outputDelayMs: Double
    public var underruns: Int
    public var hardSyncs: Int
    /// The playout error at the last period, µs (what the resampler is correcting).
    public var playoutErrorMicroseconds: Double
    /// Where its clock-sync messages go: `datagram` (Tutti's time channel) or `stream` (in the
    /// audio connection); nil when it does not say (a snapclient).
    public var timeChannel: String?

    public init(
        locked: Bool = false, clockErrorMicroseconds: Double = 0, ratePPM: Double = 0, bufferMs: Double = 0,
        outputDelayMs: Double = 0, underruns: Int = 0, hardSyncs: Int = 0, playoutErrorMicroseconds: Double = 0,
        timeChannel: String? = nil
    ) {
        self.timeChannel = timeChannel
        self.locked = locked
        self.clockErrorMicroseconds = clockErrorMicroseconds
        self.ratePPM = ratePPM
        self.bufferMs = bufferMs
        self.outputDelayMs = outputDelayMs
        self.underruns = underruns
        self.hardSyncs = hardSyncs
        self.playoutErrorMicroseconds = playoutErrorMicroseconds
    }
}
