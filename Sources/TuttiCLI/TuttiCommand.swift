import ArgumentParser

/// The `tutti` command tree. The executable's `main` only runs this.
public struct TuttiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tutti",
        abstract: "Multi-room audio in sync: a Snapcast-compatible server and speakers.",
        subcommands: [ServerCommand.self, SpeakerCommand.self, CtlCommand.self, DemoCommand.self, BenchCommand.self]
    )

    public init() {}

    /// Runs the command for this process's arguments. `tutti ctl`'s connection options may come
    /// before its subcommand (`tutti ctl --server box status`), as people write them.
    public static func main() async {
        await main(Array(CtlArguments.reordered(CommandLine.arguments.dropFirst())))
    }
}

/// Moves `tutti ctl`'s own options written before the subcommand to the end, where the
/// argument parser (which gives them to every subcommand) expects them, and marks negative
/// numbers as values.
enum CtlArguments {
    static let valued: Set<String> = ["--server", "--token"]
    static let flags: Set<String> = ["--json"]

    static func reordered<C: Collection<String>>(_ arguments: C) -> [String] {
        var arguments = Array(arguments)
        guard arguments.first == "ctl" else { return arguments }
        var moved: [String] = []
        let index = 1  // the argument after `ctl`, until it is the subcommand
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if flags.contains(argument) || (valued.contains(name) && argument.contains("=")) {
                moved.append(arguments.remove(at: index))
            } else if valued.contains(argument), index + 1 < arguments.count {
                moved += [arguments.remove(at: index), arguments.remove(at: index)]
            } else {
                break
            }
        }
        // A negative number ("volume kitchen -10", "latency tv -25") is a value, not an option.
        if let negative = arguments.indices.dropFirst().first(where: { Int(arguments[$0]) ?? 0 < 0 }) {
            var tail = Array(arguments[negative...])
            while let option = tail.firstIndex(where: { $0.hasPrefix("--") }) {
                let takesValue = (valued.union(["--stream", "--name"])).contains(tail[option]) && option + 1 < tail.count
                moved += tail[option...(takesValue ? option + 1 : option)]
                tail.removeSubrange(option...(takesValue ? option + 1 : option))
            }
            return Array(arguments[..<negative]) + moved + ["--"] + tail
        }
        return arguments + moved
    }
}
