import ArgumentParser
import TuttiControl

/// `tutti ctl say "…"`: one everyday sentence, acted on by the server (Command.Run).
struct CtlSay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "say", abstract: "Do what a sentence says: \"play jazz in the kitchen\", \"switch to patio\", \"party mode on\".",
        discussion: """
            The sentences are listed in docs/commands.md; a routine's name or alias runs it. A sentence \
            that is not understood, or names something unknown or ambiguous, changes nothing and exits \
            with code 2, saying what was understood and the closest names.
            """)
    @OptionGroup var options: CtlOptions
    @Flag(name: .long, help: "Only show what the sentence would do.") var dryRun = false
    @Argument(help: "The sentence (quoted or not).") var words: [String]

    func run() async throws {
        let text = words.joined(separator: " ")
        try await options.run { connection, _ in
            var params: [String: JSON] = ["text": .string(text)]
            if dryRun { params["dryRun"] = true }
            let result = try await Self.running { try await connection.call("Command.Run", .object(params), timeout: .seconds(86_400)) }
            return CtlOutput(text: Self.describe(result, dryRun: dryRun), json: result)
        }
    }

    /// Runs a call that runs actions, turning "not understood" into exit code 2 and a failed
    /// action into a message that says what had been done.
    static func running(_ call: () async throws -> JSON) async throws -> JSON {
        do {
            return try await call()
        } catch CtlError.rpc(let error) where error.code == -32006 {
            var message = "not understood: \(error.data?["detail"]?.stringValue ?? error.message)"
            if let names = error.data?["candidates"]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty {
                message += "\nit could be: \(names.joined(separator: ", "))"
            } else if let names = error.data?["suggestions"]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty {
                message += "\nclosest names: \(names.joined(separator: ", "))"
            }
            throw CtlError.notFound(message)
        } catch CtlError.rpc(let error) where error.data?["failed"] != nil {
            let done = error.data?["done"]?.arrayValue?.compactMap(\.stringValue) ?? []
            throw CtlError.unreachable(
                error.message + (done.isEmpty ? "\nnothing had been done" : "\nalready done:\n" + done.map { "  - \($0)" }.joined(separator: "\n")))
        }
    }

    static func describe(_ result: JSON, dryRun: Bool) -> String {
        let done = result["done"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if dryRun { return (["would:"] + done.map { "  - \($0)" }).joined(separator: "\n") }
        return done.isEmpty ? "done" : done.joined(separator: "\n")
    }
}

struct CtlRoutine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routine", abstract: "Named lists of actions, run by name, at times of day, or when something happens.",
        discussion: """
            Actions are sentences, as `tutti ctl say` takes them ("play jazz in the kitchen", "wait 5 \
            seconds", "volume 30 on patio"). Times: --at "07:00", "07:00 weekdays", "22:30 fri,sat". \
            Events: --on speaker_connected:patio, speaker_disconnected, stream_started:radio, stream_stopped.
            """,
        subcommands: [List.self, Show.self, Create.self, Edit.self, Delete.self, Run.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The routines, their phrases and triggers.")
        @OptionGroup var options: CtlOptions

        func run() async throws {
            try await options.run { connection, _ in
                let result = try await connection.call("Routine.List")
                let routines = result["routines"]?.arrayValue ?? []
                var rows = [["ROUTINE", "ALSO", "RUNS", "ACTIONS"]]
                for routine in routines {
                    rows.append([
                        (routine["name"]?.stringValue ?? "") + (routine["enabled"] == false ? " (disabled)" : ""),
                        (routine["aliases"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                        CtlRoutine.triggers(routine), "\(routine["actions"]?.arrayValue?.count ?? 0)",
                    ])
                }
                let text = routines.isEmpty ? "no routines" : StatusTable.table(rows).joined(separator: "\n")
                return CtlOutput(text: text, json: result)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One routine's actions and triggers.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The routine.") var routine: String

        func run() async throws {
            try await options.run { connection, _ in
                let routine = try await CtlRoutine.find(routine, connection)
                return CtlOutput(text: CtlRoutine.render(routine), json: ["routine": routine])
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new routine.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var definition: Definition
        @Argument(help: "Its name (also the phrase that runs it).") var name: String

        func validate() throws {
            guard !definition.actions.isEmpty else { throw ValidationError("give at least one --action") }
        }

        func run() async throws {
            try await options.run { connection, _ in
                var params = try definition.params()
                params["name"] = .string(name)
                let result = try await connection.call("Routine.Create", .object(params))
                return CtlOutput(text: CtlRoutine.render(result["routine"] ?? .null), json: result)
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a routine: --action replaces its actions, --at/--on its triggers, --alias its aliases.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var definition: Definition
        @Argument(help: "The routine.") var routine: String
        @Option(name: .long, help: "A new name.") var name: String?
        @Flag(name: .long, help: "Remove every time and event trigger.") var noTriggers = false
        @Flag(help: "Whether its times and events run it (a disabled routine runs only when asked).") var switched: Switch?

        enum Switch: String, EnumerableFlag {
            case enable, disable
        }

        func run() async throws {
            try await options.run { connection, _ in
                let existing = try await CtlRoutine.find(routine, connection)
                var params = try definition.params()
                params["id"] = existing["id"]
                if let name { params["name"] = .string(name) }
                if let switched { params["enabled"] = .bool(switched == .enable) }
                if noTriggers { params["triggers"] = [] }
                let result = try await connection.call("Routine.Update", .object(params))
                return CtlOutput(text: CtlRoutine.render(result["routine"] ?? .null), json: result)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a routine.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The routine.") var routine: String

        func run() async throws {
            try await options.run { connection, _ in
                let existing = try await CtlRoutine.find(routine, connection)
                let result = try await connection.call("Routine.Delete", ["id": existing["id"] ?? .null])
                return CtlOutput(text: "routine \(existing["name"]?.stringValue ?? routine) deleted", json: result)
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a routine now (the call returns when it is done).")
        @OptionGroup var options: CtlOptions
        @Flag(name: .long, help: "Only show what it would do.") var dryRun = false
        @Argument(help: "The routine.") var routine: String

        func run() async throws {
            try await options.run { connection, _ in
                let existing = try await CtlRoutine.find(routine, connection)
                var params: [String: JSON] = ["id": existing["id"] ?? .null]
                if dryRun { params["dryRun"] = true }
                let result = try await CtlSay.running { try await connection.call("Routine.Run", .object(params), timeout: .seconds(86_400)) }
                return CtlOutput(text: CtlSay.describe(result, dryRun: dryRun), json: result)
            }
        }
    }

    /// The options that define a routine's content.
    struct Definition: ParsableArguments {
        @Option(name: .customLong("action"), help: "An action, as a sentence (repeat, in order).") var actions: [String] = []
        @Option(name: .customLong("alias"), help: "Another phrase that runs it (repeat).") var aliases: [String] = []
        @Option(name: .customLong("at"), help: "A time of day: \"HH:MM [weekdays|weekends|mon,tue,…]\" (repeat).") var times: [String] = []
        @Option(name: .customLong("on"), help: "An event: KIND[:SUBJECT], e.g. speaker_connected:patio (repeat).") var events: [String] = []

        func params() throws -> [String: JSON] {
            var params: [String: JSON] = [:]
            if !actions.isEmpty { params["actions"] = .array(actions.map(JSON.string)) }
            if !aliases.isEmpty { params["aliases"] = .array(aliases.map(JSON.string)) }
            var triggers: [JSON] = []
            for time in times {
                let parts = time.split(separator: " ", maxSplits: 1).map(String.init)
                guard let at = parts.first else { throw CtlError.usage("--at needs a time, HH:MM") }
                var trigger: [String: JSON] = ["at": .string(at)]
                if parts.count > 1 {
                    trigger["days"] = .array(parts[1].split { $0 == "," || $0 == " " }.map { .string(String($0)) })
                }
                triggers.append(.object(trigger))
            }
            for event in events {
                let parts = event.split(separator: ":", maxSplits: 1).map(String.init)
                guard let kind = parts.first else { throw CtlError.usage("--on needs an event, e.g. speaker_connected:patio") }
                var trigger: [String: JSON] = ["event": .string(kind)]
                if parts.count > 1 { trigger["subject"] = .string(parts[1]) }
                triggers.append(.object(trigger))
            }
            if !triggers.isEmpty { params["triggers"] = .array(triggers) }
            return params
        }
    }

    /// A routine by name or alias, as people say it.
    static func find(_ name: String, _ connection: ControlConnection) async throws -> JSON {
        let routines = try await connection.call("Routine.List")["routines"]?.arrayValue ?? []
        let candidates = routines.map { routine in
            NameMatcher.Candidate(
                id: routine["id"]?.stringValue ?? "",
                names: [routine["name"]?.stringValue ?? ""] + (routine["aliases"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        switch NameMatcher.match(name, among: candidates) {
        case .found(let hit): return routines.first { $0["id"] == .string(hit.id) } ?? .null
        case .ambiguous(let hits): throw CtlError.notFound("'\(name)' could be the routine \(hits.map(\.displayName).joined(separator: " or "))")
        case .notFound(let closest):
            throw CtlError.notFound("no routine '\(name)'" + (closest.isEmpty ? "" : " (closest: \(closest.joined(separator: ", ")))"))
        }
    }

    static func triggers(_ routine: JSON) -> String {
        let triggers = routine["triggers"]?.arrayValue ?? []
        let described = triggers.map { trigger -> String in
            if let at = trigger["at"]?.stringValue {
                let days = (trigger["days"]?.arrayValue ?? []).compactMap(\.stringValue)
                return "at \(at)" + (days.isEmpty ? "" : " " + days.joined(separator: ","))
            }
            return "on \(trigger["event"]?.stringValue ?? "?")" + (trigger["subject"]?.stringValue.map { " of \($0)" } ?? "")
        }
        return (["by name"] + described).joined(separator: "; ")
    }

    static func render(_ routine: JSON) -> String {
        var lines = ["routine \(routine["name"]?.stringValue ?? "?")\(routine["enabled"] == false ? " (disabled)" : "")"]
        let aliases = (routine["aliases"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !aliases.isEmpty { lines.append("  also: \(aliases.joined(separator: ", "))") }
        lines.append("  runs: \(triggers(routine))")
        for (index, action) in (routine["actions"]?.arrayValue ?? []).enumerated() {
            let sentence = (try? RoutineAction(json: action, model: nil))?.text ?? action.text
            lines.append("  \(index + 1). \(sentence)")
        }
        return lines.joined(separator: "\n")
    }
}
