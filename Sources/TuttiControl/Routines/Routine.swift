/// A named, stored list of actions — "Good morning": the kitchen plays the radio at 30 % — run
/// on request, by its phrase (its name or an alias, through ``PhraseParser``), at times of day,
/// or when something happens (a speaker connects, a stream starts).
public struct Routine: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Other phrases that run it ("morning", "wake up").
    public var aliases: [String]
    public var actions: [RoutineAction]
    public var times: [TimeTrigger]
    public var events: [EventTrigger]
    /// A disabled routine runs only when asked by name; its times and events are ignored.
    public var enabled: Bool

    public init(
        id: String, name: String, aliases: [String] = [], actions: [RoutineAction], times: [TimeTrigger] = [],
        events: [EventTrigger] = [], enabled: Bool = true
    ) {
        self.id = id
        self.name = name
        self.aliases = aliases
        self.actions = actions
        self.times = times
        self.events = events
        self.enabled = enabled
    }

    /// The phrases that run it: its name, then its aliases.
    public var phrases: [String] { [name] + aliases }
}

/// One step of a routine or of a plain-text command. Speakers, groups, pairs and streams are
/// named as people say them and found with ``NameMatcher`` when the action runs, so a routine
/// keeps working when groups are remade under new IDs. A target of "everywhere" means every
/// speaker.
public enum RoutineAction: Sendable, Equatable {
    /// The target plays the stream, audibly: a speaker (with its stereo partner) that shares
    /// its group with others gets a group of its own; "everywhere" is party mode.
    case play(stream: String, target: String)
    /// What is playing (the largest unmuted group's stream) moves to the target and is muted
    /// where it was; party mode ends first.
    case switchTo(String)
    /// The speakers (with stereo partners) join the target's group.
    case move(speakers: [String], target: String)
    /// A new group of the targets' speakers.
    case group([String], name: String?)
    /// The target's group splits into speakers (stereo pairs stay together).
    case ungroup(String)
    case setVolume(target: String, percent: Int)
    /// Louder (positive) or quieter (negative) by this many percentage points.
    case changeVolume(target: String, by: Int)
    /// Mute or unmute; "stop" and "pause" mute too (Tutti's streams are live sources that
    /// other rooms may be playing).
    case mute(target: String, muted: Bool)
    case party(on: Bool, stream: String?)
    case pair(left: String, right: String, name: String?)
    case unpair(String)
    case bluetooth(connect: Bool, device: String)
    case wait(seconds: Double)
    /// Another routine, by name (at most ``RoutineEngine/maximumDepth`` deep).
    case run(routine: String)
}

/// "At 07:00 on weekdays", in the server's time zone.
public struct TimeTrigger: Sendable, Equatable, Hashable {
    public var hour: Int
    public var minute: Int
    /// Weekdays as Foundation counts them: 1 is Sunday, 7 Saturday. Empty: every day.
    public var weekdays: Set<Int>

    public init(hour: Int, minute: Int, weekdays: Set<Int> = []) {
        self.hour = hour
        self.minute = minute
        self.weekdays = weekdays
    }

    public func runs(onWeekday weekday: Int) -> Bool { weekdays.isEmpty || weekdays.contains(weekday) }
}

/// "When the patio speaker connects", "when any stream starts".
public struct EventTrigger: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case speakerConnected = "speaker_connected"
        case speakerDisconnected = "speaker_disconnected"
        case streamStarted = "stream_started"
        case streamStopped = "stream_stopped"
    }

    public var kind: Kind
    /// The speaker or stream, named as people say it; nil: any.
    public var subject: String?

    public init(_ kind: Kind, subject: String? = nil) {
        self.kind = kind
        self.subject = subject
    }
}

/// Something that happened, as event triggers see it.
public struct ObservedEvent: Sendable, Equatable {
    public var kind: EventTrigger.Kind
    /// The ID of the speaker or stream it happened to.
    public var subject: String

    public init(_ kind: EventTrigger.Kind, subject: String) {
        self.kind = kind
        self.subject = subject
    }

    /// What happened between two models: speakers that connected or disconnected, streams
    /// that started or stopped playing.
    public static func changes(from old: SystemModel, to new: SystemModel) -> [ObservedEvent] {
        var events: [ObservedEvent] = []
        for speaker in new.speakers where speaker.connected != (old.speaker(speaker.id)?.connected ?? false) {
            events.append(ObservedEvent(speaker.connected ? .speakerConnected : .speakerDisconnected, subject: speaker.id))
        }
        for stream in new.streams where (stream.status == .playing) != (old.stream(stream.id)?.status == .playing) {
            events.append(ObservedEvent(stream.status == .playing ? .streamStarted : .streamStopped, subject: stream.id))
        }
        return events
    }

    /// Whether a trigger fires on this event: the same kind, and a subject that names this
    /// speaker or stream in `model` (or no subject).
    public func fires(_ trigger: EventTrigger, in model: SystemModel) -> Bool {
        guard trigger.kind == kind else { return false }
        guard let subject = trigger.subject else { return true }
        let targets = Targets(model)
        switch kind {
        case .speakerConnected, .speakerDisconnected: return (try? targets.speaker(subject)) == self.subject
        case .streamStarted, .streamStopped: return (try? targets.stream(subject)) == self.subject
        }
    }
}

extension SystemModel {
    /// Enabled routines with an event trigger that fires on one of these events, each once.
    public func routines(triggeredBy events: [ObservedEvent]) -> [Routine] {
        guard !events.isEmpty else { return [] }
        return routines.filter { routine in
            routine.enabled && routine.events.contains { trigger in events.contains { $0.fires(trigger, in: self) } }
        }
    }
}
