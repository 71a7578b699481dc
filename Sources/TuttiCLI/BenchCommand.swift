import ArgumentParser

/// `tutti bench …`: benchmarks that compare Tutti with its peers side by side in one run.
/// Their output is a table; nothing here is a test.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: Tutti beside its peers, one run, one table.",
        subcommands: [SyncBenchCommand.self, SimulationBenchCommand.self, CodecBenchCommand.self, SoakBenchCommand.self, FanoutBenchCommand.self]
    )
}
