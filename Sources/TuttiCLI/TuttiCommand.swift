import ArgumentParser

/// The `tutti` command tree. The executable's `main` only runs this.
public struct TuttiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tutti",
        abstract: "Multi-room audio in sync: a Snapcast-compatible server and speakers.",
        subcommands: [ServerCommand.self, SpeakerCommand.self, DemoCommand.self, BenchCommand.self]
    )

    public init() {}
}
