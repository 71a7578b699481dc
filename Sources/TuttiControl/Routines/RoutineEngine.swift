/// Turns a routine's actions into commands, against the model as it is when each action runs.
/// Pure: the caller applies each command (storing it, telling speakers) and hands back the
/// model that results, so an action's later commands see what its earlier ones did.
public enum RoutineEngine {
    /// How deep routines may run other routines.
    public static let maximumDepth = 4

    /// The relative step of "louder" and "quieter", percentage points.
    public static let volumeStep = 10

    /// Performs one action (a wait or a routine call is the runner's) and returns what it did,
    /// in words, with the names it resolved to.
    ///
    /// - Parameters:
    ///   - model: the model now (called again after every command).
    ///   - apply: applies one command; throws when it is refused.
    public static func perform(
        _ action: RoutineAction, model: () -> SystemModel, apply: (Command) throws(ControlError) -> Void
    ) throws(ControlError) -> String {
        let targets = Targets(model())
        let description = describe(action, in: targets.model)
        switch action {
        case .play(let stream, let target):
            try play(targets.stream(stream), on: targets.target(target), model: model, apply: apply)
        case .switchTo(let name):
            try switchTo(name, model: model, apply: apply)
        case .move(let names, let destination):
            let target = try targets.target(destination)
            guard target != .everywhere, let group = targets.groups(of: target).first else {
                throw .invalidValue("move speakers to a speaker or group, not everywhere (that is party mode)")
            }
            var members = group.speakerIDs
            for name in names {
                for id in targets.speakers(of: try targets.target(name)) where !members.contains(id) { members.append(id) }
            }
            try apply(.setGroupClients(group: group.id, speakers: members))
        case .group(let names, let name):
            var members: [String] = []
            for name in names {
                for id in targets.speakers(of: try targets.target(name)) where !members.contains(id) { members.append(id) }
            }
            try apply(.createGroup(name: name ?? "", speakers: members, stream: nil))
        case .ungroup(let name):
            let target = try targets.target(name)
            let party = targets.model.party
            if target == .everywhere || targets.groups(of: target).contains(where: { $0.id == party?.groupID }) {
                if party != nil { try apply(.setPartyMode(on: false, stream: nil)) }
            }
            for group in Targets(model()).groups(of: target) where target != .everywhere || group.speakerIDs.count > 1 {
                try apply(.dissolveGroup(group.id))
            }
        case .setVolume(let name, let percent):
            guard (0...100).contains(percent) else { throw .invalidValue("volume \(percent) is outside 0...100") }
            try setVolume(of: targets.target(name), model: model, apply: apply) { _ in percent }
        case .changeVolume(let name, let delta):
            let step = max(-100, min(100, delta))
            try setVolume(of: targets.target(name), model: model, apply: apply) { max(0, min(100, max(0, min(100, $0)) + step)) }
        case .mute(let name, let muted):
            try mute(targets.target(name), muted, model: model, apply: apply)
        case .party(let on, let stream):
            try apply(.setPartyMode(on: on, stream: try stream.map { name throws(ControlError) in try targets.stream(name) }))
        case .pair(let left, let right, let name):
            try apply(.createPair(left: targets.speaker(left), right: targets.speaker(right), name: name))
        case .unpair(let name):
            try apply(.deletePair(targets.pair(name)))
        case .bluetooth:
            throw .unavailable("'\(action.text)' is done by a speaker host's Bluetooth, through the server")
        case .wait, .run:
            throw .invalidValue("'\(action.text)' is run by the routine runner")
        }
        return description
    }

    // MARK: Actions made of several commands

    /// The target plays the stream, audibly.
    static func play(_ stream: String, on target: Target, model: () -> SystemModel, apply: (Command) throws(ControlError) -> Void) throws(ControlError) {
        let targets = Targets(model())
        switch target {
        case .everywhere:
            try apply(.setPartyMode(on: true, stream: stream))
            if let party = model().party, model().group(party.groupID)?.muted == true { try apply(.setGroupMute(group: party.groupID, muted: false)) }
            return
        case .speaker, .group, .pair:
            if let group = targets.isWholeGroup(target) {
                if group.streamID != stream { try apply(.setGroupStream(group: group.id, stream: stream)) }
                if group.muted { try apply(.setGroupMute(group: group.id, muted: false)) }
            } else {
                try apply(.createGroup(name: "", speakers: targets.speakers(of: target), stream: stream))
            }
        }
        for id in targets.speakers(of: target) where model().speaker(id)?.muted == true {
            try apply(.setVolume(speaker: id, percent: nil, muted: false))
        }
    }

    /// What is playing moves to the target and is muted where it was.
    static func switchTo(_ name: String, model: () -> SystemModel, apply: (Command) throws(ControlError) -> Void) throws(ControlError) {
        var targets = Targets(model())
        var target = try targets.target(name)
        guard target != .everywhere else {
            try apply(.setPartyMode(on: true, stream: nil))
            return
        }
        guard let stream = playingStream(in: targets.model, outside: Set(targets.speakers(of: target))) else {
            throw .conflict("nothing is playing that could move to \(targets.describe(target))")
        }
        if targets.model.party != nil {
            try apply(.setPartyMode(on: false, stream: nil))
            targets = Targets(model())
            target = try targets.target(name)
        }
        try play(stream, on: target, model: model, apply: apply)
        let here = Set(Targets(model()).speakers(of: target))
        for group in model().groups where group.streamID == stream && !group.muted && here.isDisjoint(with: group.speakerIDs) {
            try apply(.setGroupMute(group: group.id, muted: true))
        }
    }

    /// The stream of the unmuted group with the most connected speakers outside `excluded`, or
    /// (when only those play) of their own group.
    static func playingStream(in model: SystemModel, outside excluded: Set<String>) -> String? {
        let audible = { (group: SpeakerGroup, counting: (String) -> Bool) in
            group.muted ? 0 : group.speakerIDs.filter { model.speaker($0)?.connected == true && counting($0) }.count
        }
        let elsewhere = model.groups.map { ($0, audible($0) { !excluded.contains($0) }) }.filter { $0.1 > 0 }
        if let best = elsewhere.max(by: { $0.1 < $1.1 }) { return best.0.streamID }
        return model.groups.first { audible($0) { excluded.contains($0) } > 0 }?.streamID
    }

    static func setVolume(
        of target: Target, model: () -> SystemModel, apply: (Command) throws(ControlError) -> Void, _ volume: (Int) -> Int
    ) throws(ControlError) {
        let targets = Targets(model())
        switch target {
        case .speaker(let id):
            try apply(.setVolume(speaker: id, percent: volume(targets.model.speaker(id)?.volume ?? 0), muted: nil))
        case .pair(let id):
            // Volume set on one speaker of a pair applies to both.
            guard let pair = targets.model.pair(id), let speaker = targets.model.speaker(pair.left) else { throw .unknownPair(id) }
            try apply(.setVolume(speaker: speaker.id, percent: volume(speaker.volume), muted: nil))
        case .group, .everywhere:
            for group in targets.groups(of: target) {
                let volumes = group.speakerIDs.compactMap { targets.model.speaker($0)?.volume }
                let mean = volumes.isEmpty ? 0 : Int((Double(volumes.reduce(0, +)) / Double(volumes.count)).rounded())
                try apply(.setGroupVolume(group: group.id, percent: volume(mean)))
            }
        }
    }

    static func mute(_ target: Target, _ muted: Bool, model: () -> SystemModel, apply: (Command) throws(ControlError) -> Void) throws(ControlError) {
        let targets = Targets(model())
        switch target {
        case .speaker(let id):
            try apply(.setVolume(speaker: id, percent: nil, muted: muted))
        case .pair(let id):
            guard let pair = targets.model.pair(id) else { throw .unknownPair(id) }
            try apply(.setVolume(speaker: pair.left, percent: nil, muted: muted))
        case .group, .everywhere:
            for group in targets.groups(of: target) where group.muted != muted {
                try apply(.setGroupMute(group: group.id, muted: muted))
            }
        }
    }

    // MARK: Words

    /// What an action does, with the names resolved in `model` where they resolve.
    public static func describe(_ action: RoutineAction, in model: SystemModel) -> String {
        let targets = Targets(model)
        let target = { (name: String) -> String in (try? targets.target(name)).map(targets.describe) ?? "'\(name)'" }
        let stream = { (name: String) -> String in "stream " + ((try? targets.stream(name)) ?? "'\(name)'") }
        switch action {
        case .play(let name, let where_):
            return "play \(stream(name)) on \(target(where_))"
        case .switchTo(let name):
            let resolved = try? targets.target(name)
            let playing = resolved.flatMap { playingStream(in: model, outside: Set(targets.speakers(of: $0))) }
            return "move what is playing\(playing.map { " (stream \($0))" } ?? "") to \(target(name)), muted where it was"
        case .move(let names, let destination):
            return "move \(names.map(target).joined(separator: ", ")) into the group of \(target(destination))"
        case .group(let names, let name):
            return "group \(NameProblem.list(names.map(target), joiner: "and"))\(name.map { " as '\($0)'" } ?? "")"
        case .ungroup(let name):
            return "ungroup \(target(name))"
        case .setVolume(let name, let percent):
            return "set the volume of \(target(name)) to \(percent) %"
        case .changeVolume(let name, let delta):
            return "\(delta >= 0 ? "raise" : "lower") the volume of \(target(name)) by \(delta.magnitude) points"
        case .mute(let name, let muted):
            return "\(muted ? "mute" : "unmute") \(target(name))"
        case .party(let on, let name):
            return on ? "party mode on\(name.map { ", playing \(stream($0))" } ?? "")" : "party mode off, groups as before"
        case .pair(let left, let right, let name):
            return "pair \(target(left)) (left) and \(target(right)) (right)\(name.map { " as '\($0)'" } ?? "")"
        case .unpair(let name):
            return "split the stereo pair \(((try? targets.pair(name)).flatMap { model.pair($0)?.name }).map { "'\($0)'" } ?? "'\(name)'")"
        case .bluetooth(let connect, let device):
            return "\(connect ? "connect" : "disconnect") the Bluetooth speaker '\(device)'"
        case .wait(let seconds):
            return "wait \(RoutineAction.format(seconds)) s"
        case .run(let name):
            return "run routine \((try? targets.routine(name)).map { "'\($0.name)'" } ?? "'\(name)'")"
        }
    }
}
