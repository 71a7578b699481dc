/// A routine action as a sentence of the plain-text grammar (``PhraseParser`` reads it back)
/// and as the JSON object of the API and the store.
extension RoutineAction {
    /// The sentence that means this action.
    public var text: String {
        switch self {
        case .play(let stream, let target): Targets.meansEverywhere(target) ? "play \(stream) everywhere" : "play \(stream) on \(target)"
        case .switchTo(let target): "switch to \(target)"
        case .move(let speakers, let target): "move \(speakers.joined(separator: " and ")) to \(target)"
        case .group(let targets, let name): "group \(targets.joined(separator: " and "))\(name.map { " as \($0)" } ?? "")"
        case .ungroup(let target): "ungroup \(target)"
        case .setVolume(let target, let percent): "volume \(percent) on \(target)"
        case .changeVolume(let target, let delta): "volume \(delta >= 0 ? "+" : "")\(delta) on \(target)"
        case .mute(let target, let muted): "\(muted ? "mute" : "unmute") \(target)"
        case .party(let on, let stream): "party mode \(on ? "on" : "off")\(stream.map { " with \($0)" } ?? "")"
        case .pair(let left, let right, let name): "pair \(left) and \(right)\(name.map { " as \($0)" } ?? "")"
        case .unpair(let target): "unpair \(target)"
        case .bluetooth(let connect, let device): "\(connect ? "connect" : "disconnect") \(device)"
        case .wait(let seconds): "wait \(Self.format(seconds)) seconds"
        case .run(let routine): "run \(routine)"
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds.rounded() == seconds && abs(seconds) < 1e9 ? String(Int(seconds)) : String(seconds)
    }

    // MARK: JSON

    /// `{"action": "volume", "target": "kitchen", "percent": 30}` and so on (docs/commands.md).
    public var json: JSON {
        var object: [String: JSON]
        switch self {
        case .play(let stream, let target): object = ["action": "play", "stream": .string(stream), "target": .string(target)]
        case .switchTo(let target): object = ["action": "switch", "target": .string(target)]
        case .move(let speakers, let target):
            object = ["action": "move", "speakers": .array(speakers.map(JSON.string)), "target": .string(target)]
        case .group(let targets, let name):
            object = ["action": "group", "targets": .array(targets.map(JSON.string))]
            if let name { object["name"] = .string(name) }
        case .ungroup(let target): object = ["action": "ungroup", "target": .string(target)]
        case .setVolume(let target, let percent): object = ["action": "volume", "target": .string(target), "percent": .int(percent)]
        case .changeVolume(let target, let delta): object = ["action": "volume", "target": .string(target), "change": .int(delta)]
        case .mute(let target, let muted): object = ["action": muted ? "mute" : "unmute", "target": .string(target)]
        case .party(let on, let stream):
            object = ["action": "party", "on": .bool(on)]
            if let stream { object["stream"] = .string(stream) }
        case .pair(let left, let right, let name):
            object = ["action": "pair", "left": .string(left), "right": .string(right)]
            if let name { object["name"] = .string(name) }
        case .unpair(let target): object = ["action": "unpair", "target": .string(target)]
        case .bluetooth(let connect, let device): object = ["action": connect ? "connect" : "disconnect", "device": .string(device)]
        case .wait(let seconds): object = ["action": "wait", "seconds": seconds.rounded() == seconds ? .int(Int(seconds)) : .double(seconds)]
        case .run(let routine): object = ["action": "run", "routine": .string(routine)]
        }
        return .object(object)
    }

    /// Reads an action from its JSON object, or from a sentence (a string, read with
    /// ``PhraseParser`` against `model`, names kept as written; nil: sentences are refused).
    public init(json: JSON, model: SystemModel?) throws(RPCError) {
        if case .string(let sentence) = json {
            guard let model else { throw .invalidParams("'\(sentence)' is a sentence, where an action object was expected") }
            do {
                let actions = try PhraseParser.parse(sentence, in: model, mode: .routineAction)
                guard actions.count == 1 else { throw RPCError.invalidParams("'\(sentence)' is not one action") }
                self = actions[0]
                return
            } catch let error as PhraseError {
                throw error.rpcError
            } catch {
                throw .invalidParams("\(error)")
            }
        }
        let params = try RPCParams(json)
        let action = try params.string("action")
        switch action {
        case "play": self = .play(stream: try params.string("stream"), target: try params.string("target"))
        case "switch": self = .switchTo(try params.string("target"))
        case "move": self = .move(speakers: try params.strings("speakers"), target: try params.string("target"))
        case "group": self = .group(try params.strings("targets"), name: try params.optionalString("name"))
        case "ungroup": self = .ungroup(try params.string("target"))
        case "volume":
            let target = try params.string("target")
            if let change = try params.optionalInt("change") {
                guard (-100...100).contains(change) else { throw .invalidParams("'change' must be -100...100, not \(change)") }
                self = .changeVolume(target: target, by: change)
            } else {
                self = .setVolume(target: target, percent: try params.int("percent"))
            }
        case "mute", "unmute": self = .mute(target: try params.string("target"), muted: action == "mute")
        case "party": self = .party(on: try params.bool("on"), stream: try params.optionalString("stream"))
        case "pair": self = .pair(left: try params.string("left"), right: try params.string("right"), name: try params.optionalString("name"))
        case "unpair": self = .unpair(try params.string("target"))
        case "connect", "disconnect": self = .bluetooth(connect: action == "connect", device: try params.string("device"))
        case "wait":
            guard let seconds = params.members["seconds"]?.doubleValue, seconds.isFinite,
                  (0...SystemModel.routineLimits.waitSeconds).contains(seconds)
            else { throw .invalidParams("'seconds' must be a number of seconds, 0...\(Int(SystemModel.routineLimits.waitSeconds))") }
            self = .wait(seconds: seconds)
        case "run": self = .run(routine: try params.string("routine"))
        default:
            throw .invalidParams(
                "unknown action '\(action)'; actions are play, switch, move, group, ungroup, volume, mute, unmute, party, pair, unpair, connect, disconnect, wait, run")
        }
    }
}

extension Routine {
    /// The routine as the API shows it.
    public var json: JSON {
        [
            "id": .string(id), "name": .string(name), "aliases": .array(aliases.map(JSON.string)), "enabled": .bool(enabled),
            "actions": .array(actions.map(\.json)),
            "sentences": .array(actions.map { .string($0.text) }),
            "triggers": .array(times.map(\.json) + events.map(\.json)),
        ]
    }

    /// Reads the parts of a routine a request gives (for Routine.Create and Routine.Update);
    /// absent parts keep `base`'s.
    public init(id: String, params: RPCParams, base: Routine?, model: SystemModel?) throws(RPCError) {
        self = base ?? Routine(id: id, name: "", actions: [])
        if let name = try params.optionalString("name") { self.name = name }
        if params.has("aliases") { aliases = try params.strings("aliases") }
        if let enabled = try params.optionalBool("enabled") { self.enabled = enabled }
        if params.has("actions") {
            guard case .array(let elements)? = params.members["actions"] else { throw .invalidParams("'actions' must be an array") }
            var actions: [RoutineAction] = []
            for (index, element) in elements.enumerated() {
                do {
                    actions.append(try RoutineAction(json: element, model: model))
                } catch {
                    var located = error
                    let detail = JSON.string("action \(index + 1): \(error.detail)")
                    if case .object(var data)? = error.data {
                        data["detail"] = detail
                        located.data = .object(data)
                    } else {
                        located.data = detail
                    }
                    throw located
                }
            }
            self.actions = actions
        }
        if params.has("triggers") {
            guard case .array(let elements)? = params.members["triggers"] else { throw .invalidParams("'triggers' must be an array") }
            times = []
            events = []
            for element in elements {
                let trigger = try RPCParams(element)
                if trigger.has("at") {
                    times.append(try TimeTrigger(trigger))
                } else if trigger.has("event") {
                    events.append(try EventTrigger(trigger))
                } else {
                    throw .invalidParams("a trigger has 'at' (a time of day) or 'event'")
                }
            }
        }
    }
}

extension TimeTrigger {
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `{"at": "07:00", "days": ["mon", "tue"]}`; `days` may also be "weekdays", "weekends" or
    /// absent (every day).
    init(_ params: RPCParams) throws(RPCError) {
        let at = try params.string("at")
        let parts = at.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else {
            throw .invalidParams("'at' must be a time of day, HH:MM (24-hour), not '\(at)'")
        }
        var weekdays = Set<Int>()
        for day in params.has("days") ? try params.strings("days") : [] {
            switch day.lowercased() {
            case "weekdays": weekdays.formUnion(2...6)
            case "weekends": weekdays.formUnion([1, 7])
            case "daily", "every day": weekdays.formUnion(1...7)
            default:
                guard let index = Self.dayNames.firstIndex(of: String(day.lowercased().prefix(3))) else {
                    throw .invalidParams("'\(day)' is not a day (mon … sun, weekdays, weekends)")
                }
                weekdays.insert(index + 1)
            }
        }
        self.init(hour: hour, minute: minute, weekdays: weekdays.count == 7 ? [] : weekdays)
    }

    var json: JSON {
        var object: [String: JSON] = ["at": .string(String(format2(hour) + ":" + format2(minute)))]
        if !weekdays.isEmpty { object["days"] = .array(weekdays.sorted().map { .string(Self.dayNames[$0 - 1]) }) }
        return .object(object)
    }

    private func format2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension EventTrigger {
    /// `{"event": "speaker_connected", "subject": "patio"}`.
    init(_ params: RPCParams) throws(RPCError) {
        let name = try params.string("event")
        guard let kind = Kind(rawValue: name) else {
            throw .invalidParams("'\(name)' is not an event; events are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(kind, subject: try params.optionalString("subject"))
    }

    var json: JSON {
        var object: [String: JSON] = ["event": .string(kind.rawValue)]
        if let subject { object["subject"] = .string(subject) }
        return .object(object)
    }
}

extension RPCError {
    /// The error's detail text (its `data` string, or `data.detail`).
    var detail: String {
        if case .string(let text)? = data { return text }
        if case .string(let text)? = data?["detail"] { return text }
        return message
    }
}
