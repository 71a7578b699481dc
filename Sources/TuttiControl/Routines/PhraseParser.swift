import Foundation

/// Reads the everyday sentences of a multi-room system — "play jazz in the kitchen", "switch
/// to patio", "volume 30 on kitchen speaker", "party mode on" — into routine actions. Pure.
///
/// Names are checked against the model while reading (that is how "play kitchen radio in the
/// kitchen" finds where the stream's name ends) but kept as said, so the actions resolve them
/// again when they run. A sentence that fits no form, or names that fit nothing or several
/// things, throw ``PhraseError``: nothing is done. docs/commands.md lists the grammar.
public enum PhraseParser {
    /// How a sentence is read.
    public enum Mode: Sendable {
        /// A command to act on now: a routine's phrase runs it, and every name must fit
        /// exactly one thing.
        case command
        /// One action of a routine being stored: a speaker or group that does not exist now
        /// (a group made only later, or only outside party mode) is kept as said and resolved
        /// when the routine runs; streams and ambiguous names are still refused.
        case routineAction
    }

    /// Reads a sentence.
    public static func parse(_ text: String, in model: SystemModel, mode: Mode = .command) throws(PhraseError) -> [RoutineAction] {
        let words = tokens(text)
        guard !words.isEmpty else { throw PhraseError(text: text, detail: "say what to do, e.g. 'play jazz in the kitchen'") }
        let routines = mode == .command
        let reader = Reader(text: text, words: words, targets: Targets(model), lenient: mode == .routineAction)
        if let routine = reader.routinePhrase(loosely: false) { return [.run(routine: routine.name)] }
        if let actions = try reader.read() { return actions }
        if routines, let routine = reader.routinePhrase(loosely: true) { return [.run(routine: routine.name)] }
        let known = model.routines.map(\.name)
        throw PhraseError(
            text: text,
            detail: "'\(text)' is not a sentence Tutti knows; try 'play <stream> on <speaker or group>', 'switch to <speaker>', "
                + "'volume 30 in <speaker>', 'party mode on'\(known.isEmpty ? "" : ", or a routine: \(known.joined(separator: ", "))")",
            problem: known.isEmpty ? nil : NameProblem(name: text, kind: "routine", suggestions: Array(known.prefix(3))))
    }

    /// Lowercased words; punctuation that is not part of a name or number is dropped, and a
    /// comma is its own word (it separates names like "and").
    static func tokens(_ text: String) -> [String] {
        var cleaned = ""
        for character in text.lowercased() {
            if character == "," { cleaned += " , " } else if character.isLetter || character.isNumber || "%+-:_.'#".contains(character) {
                cleaned.append(character)
            } else {
                cleaned.append(" ")
            }
        }
        var words = cleaned.split(separator: " ").map { String($0).trimmingSentenceEnd() }.filter { !$0.isEmpty }
        while let first = words.first, ["please", "hey", "ok", "okay", "tutti", ","].contains(first) { words.removeFirst() }
        while let last = words.last, ["please", "now", "thanks", ","].contains(last) { words.removeLast() }
        return words
    }
}

/// Why a sentence was not acted on: what was understood, and the names it could be.
public struct PhraseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    /// The form that was recognised, with the parts as said ("play 'jazz' on 'kitchn'").
    public var understood: String?
    public var detail: String
    public var problem: NameProblem?

    public init(text: String, understood: String? = nil, detail: String, problem: NameProblem? = nil) {
        self.text = text
        self.understood = understood
        self.detail = detail
        self.problem = problem
    }

    public var description: String { understood.map { "understood \($0), but \(detail)" } ?? detail }

    public var rpcError: RPCError { .notUnderstood(description, names: problem, understood: understood) }
}

/// One sentence being read.
private struct Reader {
    let text: String
    let words: [String]
    let targets: Targets
    /// Unknown speaker and group names are kept as said (see ``PhraseParser/Mode/routineAction``).
    let lenient: Bool

    typealias Words = ArraySlice<String>

    func read() throws(PhraseError) -> [RoutineAction]? {
        let first = words[0]
        let rest = words.dropFirst()
        if let party = try party() { return [party] }
        switch first {
        case "play": return [try play(rest)]
        case "switch", "move", "transfer", "send":
            if let destination = musicDestination(rest) { return [.switchTo(try target(destination, in: "switch to <speaker or group>"))] }
            if first == "move" { return [try move(rest)] }
            return nil
        case "add": return [try move(rest)]
        case "stop", "pause", "silence": return [.mute(target: try target(rest, in: "\(first) <speaker or group>"), muted: true)]
        case "resume", "unpause": return [.mute(target: try target(rest, in: "\(first) <speaker or group>"), muted: false)]
        case "mute", "unmute": return [.mute(target: try target(rest, in: "\(first) <speaker or group>"), muted: first == "mute")]
        case "volume", "set": return [try volume(rest)]
        case "louder", "quieter", "softer": return [try step(up: first == "louder", rest)]
        case "turn":
            guard let direction = rest.first, ["up", "down"].contains(direction) else { return nil }
            return [try step(up: direction == "up", rest.dropFirst())]
        case "group": return [try group(rest)]
        case "ungroup": return [.ungroup(try target(rest, in: "ungroup <speaker or group>"))]
        case "pair": return [try pair(rest)]
        case "unpair", "split": return [.unpair(try target(rest, in: "\(first) <stereo pair>"))]
        case "connect", "disconnect":
            let device = rest.filter { !["the", "my", "bluetooth"].contains($0) }.joined(separator: " ")
            guard !device.isEmpty else { throw PhraseError(text: text, understood: "\(first) <Bluetooth speaker>", detail: "say which speaker") }
            return [.bluetooth(connect: first == "connect", device: device)]
        case "wait": return [try wait(rest)]
        case "run", "start":
            let name = (rest.first == "routine" ? rest.dropFirst() : rest).joined(separator: " ")
            do {
                return [.run(routine: try targets.routine(name).name)]
            } catch {
                throw failure(error, understood: "run <routine>")
            }
        default: return nil
        }
    }

    // MARK: Forms

    /// "party mode on|off", "turn party mode on", "start the party", "party on with jazz".
    private func party() throws(PhraseError) -> RoutineAction? {
        guard let index = words.firstIndex(of: "party"), index <= 2 else { return nil }
        let before = words[..<index].filter { $0 != "the" }
        var after = words[(index + 1)...].drop { $0 == "mode" }
        guard before.allSatisfy({ ["turn", "start", "stop", "end", "switch", "on", "off"].contains($0) }) else { return nil }
        var on = !(before.contains("stop") || before.contains("end") || before.contains("off"))
        if let word = after.first, ["on", "off"].contains(word) {
            on = word == "on"
            after = after.dropFirst()
        }
        guard !after.isEmpty else { return .party(on: on, stream: nil) }
        guard on, let joiner = after.first, ["with", "playing"].contains(joiner), after.count > 1 else { return nil }
        let stream = after.dropFirst().joined(separator: " ")
        do {
            return .party(on: true, stream: try targets.stream(stream))
        } catch {
            throw failure(error, understood: "party mode on with <stream>")
        }
    }

    /// "play <stream> on|in|at <target>", "play <stream> everywhere".
    private func play(_ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "play <stream> on <speaker or group>"
        var firstProblem: ControlError?
        // Where the stream's name may end: before "on"/"in"/"at", or before an "everywhere" phrase.
        var splits: [(stream: Words, target: Words)] = []
        for index in rest.indices where ["on", "in", "at"].contains(rest[index]) {
            splits.append((rest[rest.startIndex..<index], rest[(index + 1)...]))
        }
        for length in 1...3 where rest.count > length {
            let tail = rest.suffix(length)
            if Targets.meansEverywhere(tail.joined(separator: " ")) { splits.append((rest.dropLast(length), tail)) }
        }
        // No separator at all ("play jazz downstairs"): the one place where both halves are names.
        if splits.allSatisfy({ (try? targets.stream($0.stream.joined(separator: " "))) == nil }) {
            let bare = (1..<max(1, rest.count)).map { (rest.prefix($0), rest.dropFirst($0)) }.filter { split in
                (try? targets.stream(split.0.joined(separator: " "))) != nil && (try? targets.target(split.1.joined(separator: " "))) != nil
            }
            if bare.count == 1 { splits.append((bare[0].0, bare[0].1)) }
        }
        for split in splits.reversed() where !split.stream.isEmpty && !split.target.isEmpty {
            do {
                let stream = try targets.stream(split.stream.joined(separator: " "))
                let target = split.target.joined(separator: " ")
                try check(target)
                return .play(stream: stream, target: target)
            } catch {
                if firstProblem == nil || isStreamProblem(firstProblem) { firstProblem = error }
            }
        }
        if let firstProblem { throw failure(firstProblem, understood: form) }
        guard !rest.isEmpty else { throw PhraseError(text: text, understood: form, detail: "say which stream to play, and where") }
        do {
            _ = try targets.stream(rest.joined(separator: " "))
        } catch {
            throw failure(error, understood: form)
        }
        throw PhraseError(text: text, understood: form, detail: "say where: 'play \(rest.joined(separator: " ")) on <speaker or group>' or '… everywhere'")
    }

    private func isStreamProblem(_ error: ControlError?) -> Bool {
        if case .unresolved(let problem)? = error { return problem.kind == "stream" }
        return false
    }

    /// After "switch"/"move"/"transfer": "to X", "music to X", "the music to X", "it to X".
    private func musicDestination(_ rest: Words) -> Words? {
        guard let to = rest.firstIndex(of: "to") else { return nil }
        let between = rest[rest.startIndex..<to]
        guard between.allSatisfy({ ["the", "music", "it", "audio", "sound", "playback", "this", "song"].contains($0) }) else { return nil }
        return rest[(to + 1)...]
    }

    /// "move|add <speakers> to|into <target>".
    private func move(_ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "move <speakers> to <speaker or group>"
        guard let to = rest.lastIndex(where: { ["to", "into"].contains($0) }) else {
            throw PhraseError(text: text, understood: form, detail: "say where to: 'move <speakers> to <group>'")
        }
        let speakers = try names(rest[rest.startIndex..<to], in: form)
        return .move(speakers: speakers, target: try target(rest[(to + 1)...], in: form))
    }

    /// "volume <n> [on|in|for] <target>", "volume +10 in <target>", "volume up in <target>",
    /// "set [the] volume [of|in|on] <target> to <n>".
    private func volume(_ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "volume <0-100> on <speaker or group>"
        var rest = rest
        if words[0] == "set" {
            guard rest.first == "volume" || (rest.first == "the" && rest.dropFirst().first == "volume") else {
                throw PhraseError(text: text, detail: "'set' what? Say 'set the volume of <speaker> to <0-100>'")
            }
            rest = rest.drop { $0 == "the" }.dropFirst()
            guard let to = rest.lastIndex(of: "to"), let amount = number(rest[(to + 1)...]) else {
                throw PhraseError(text: text, understood: "set the volume of <speaker or group> to <0-100>", detail: "say the volume, 0 to 100")
            }
            let target = try target(rest[rest.startIndex..<to].drop { ["of", "in", "on", "for"].contains($0) }, in: "set the volume of <speaker or group> to <0-100>")
            return try volumeAction(target: target, amount: amount, form: form)
        }
        if let direction = rest.first, ["up", "down"].contains(direction) { return try step(up: direction == "up", rest.dropFirst()) }
        var body = rest.drop { $0 == "to" || $0 == "at" }
        guard let word = body.first, let amount = number([word]) else {
            throw PhraseError(text: text, understood: form, detail: "say the volume, 0 to 100")
        }
        body = body.dropFirst()
        if let unit = body.first, ["percent", "%"].contains(unit) { body = body.dropFirst() }
        return try volumeAction(target: try target(body, in: form), amount: amount, form: form)
    }

    private func volumeAction(target: String, amount: (value: Int, relative: Bool), form: String) throws(PhraseError) -> RoutineAction {
        if amount.relative {
            guard (-100...100).contains(amount.value) else {
                throw PhraseError(text: text, understood: form, detail: "a volume changes by -100 to +100, not \(amount.value)")
            }
            return .changeVolume(target: target, by: amount.value)
        }
        guard (0...100).contains(amount.value) else { throw PhraseError(text: text, understood: form, detail: "a volume is 0 to 100, not \(amount.value)") }
        return .setVolume(target: target, percent: amount.value)
    }

    /// "30", "30%", "30 percent", "+10", "-10".
    private func number(_ words: Words) -> (value: Int, relative: Bool)? {
        let joined = words.filter { $0 != "percent" }.joined().replacingOccurrences(of: "%", with: "")
        guard !joined.isEmpty, let value = Int(joined) else { return nil }
        return (value, joined.hasPrefix("+") || joined.hasPrefix("-"))
    }

    /// "louder|quieter [in|on] <target>", "turn up|down <target>".
    private func step(up: Bool, _ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "\(up ? "louder" : "quieter") in <speaker or group>"
        return .changeVolume(target: try target(rest, in: form), by: up ? RoutineEngine.volumeStep : -RoutineEngine.volumeStep)
    }

    /// "group <a> and <b>[, <c>] [as|called <name>]".
    private func group(_ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "group <speaker> and <speaker> as <name>"
        let (members, name) = namedAs(rest)
        let names = try names(members, in: form)
        guard !names.isEmpty else { throw PhraseError(text: text, understood: form, detail: "say which speakers to group") }
        return .group(names, name: name)
    }

    /// "pair <left> and <right> [as <name>]".
    private func pair(_ rest: Words) throws(PhraseError) -> RoutineAction {
        let form = "pair <left speaker> and <right speaker> as <name>"
        let (members, name) = namedAs(rest)
        let names = try names(members, in: form)
        guard names.count == 2 else { throw PhraseError(text: text, understood: form, detail: "a stereo pair is two speakers, left then right") }
        for name in names where !lenient {
            do {
                _ = try targets.speaker(name)
            } catch {
                throw failure(error, understood: form)
            }
        }
        return .pair(left: names[0], right: names[1], name: name)
    }

    /// "wait 5 [seconds|s|minutes]".
    private func wait(_ rest: Words) throws(PhraseError) -> RoutineAction {
        guard let amount = rest.first.flatMap(Double.init), amount >= 0 else {
            throw PhraseError(text: text, understood: "wait <seconds>", detail: "say how long, e.g. 'wait 5 seconds'")
        }
        let unit = rest.dropFirst().first ?? "seconds"
        let scale: Double = unit.hasPrefix("min") ? 60 : unit.hasPrefix("h") ? 3600 : 1
        let seconds = amount * scale
        let limit = SystemModel.routineLimits.waitSeconds
        guard seconds.isFinite, seconds <= limit else {
            throw PhraseError(text: text, understood: "wait <seconds>", detail: "a wait is at most \(Int(limit)) seconds")
        }
        return .wait(seconds: seconds)
    }

    // MARK: Names

    /// A target name, checked; the words as said.
    private func target(_ words: Words, in form: String) throws(PhraseError) -> String {
        let name = words.drop { ["in", "on", "at", "for", "of", "to"].contains($0) }.joined(separator: " ")
        guard !name.isEmpty else { throw PhraseError(text: text, understood: form, detail: "say which speaker or group") }
        do {
            try check(name)
        } catch {
            throw failure(error, understood: form.replacingOccurrences(of: "<speaker or group>", with: "'\(name)'"))
        }
        return name
    }

    /// Checks that a name fits one speaker, group or pair (when lenient: that it fits no more than one).
    private func check(_ name: String) throws(ControlError) {
        do {
            _ = try targets.target(name)
        } catch {
            if lenient, case .unresolved(let problem) = error, problem.candidates.isEmpty { return }
            throw error
        }
    }

    /// Names separated by "and" or commas, each checked as a target.
    private func names(_ words: Words, in form: String) throws(PhraseError) -> [String] {
        var names: [String] = []
        var current: [String] = []
        for word in words + [","] {
            if word == "and" || word == "," {
                if !current.isEmpty { names.append(try target(current[...], in: form)) }
                current = []
            } else {
                current.append(word)
            }
        }
        return names
    }

    /// Splits "<names> as|called|named <new name>" into the names and the new name (as written).
    private func namedAs(_ rest: Words) -> (Words, String?) {
        guard let index = rest.lastIndex(where: { ["as", "called", "named"].contains($0) }) else { return (rest, nil) }
        return (rest[rest.startIndex..<index], originalWords(rest[(index + 1)...]))
    }

    /// A name as the user wrote it (case kept), for names being given (a new group's).
    private func originalWords(_ slice: Words) -> String {
        let said = slice.joined(separator: " ")
        guard let range = text.range(of: said, options: [.caseInsensitive, .backwards]) else { return said }
        return String(text[range])
    }

    func routinePhrase(loosely: Bool) -> Routine? {
        let candidates = targets.model.routines.map { NameMatcher.Candidate(id: $0.id, names: $0.phrases) }
        guard case .found(let hit) = NameMatcher.match(words.joined(separator: " "), among: candidates, loosely: loosely) else { return nil }
        return targets.model.routines.first { $0.id == hit.id }
    }

    private func failure(_ error: ControlError, understood: String) -> PhraseError {
        if case .unresolved(let problem) = error {
            return PhraseError(text: text, understood: understood, detail: problem.description, problem: problem)
        }
        return PhraseError(text: text, understood: understood, detail: error.description)
    }
}

extension String {
    /// Without a sentence's closing full stop ("kitchen." → "kitchen"); IDs keep inner dots.
    fileprivate func trimmingSentenceEnd() -> String {
        var result = self
        while result.hasSuffix(".") || result.hasSuffix("'") { result.removeLast() }
        return result
    }
}
