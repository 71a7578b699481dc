import ArgumentParser
import Foundation
import Logging
import Synchronization

/// Options every long-running command shares.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level?

    /// Sends swift-log output to stderr at the chosen level and returns a logger.
    func makeLogger(label: String, fallback: Logger.Level = .info) -> Logger {
        let level = logLevel ?? fallback
        LoggingBootstrap.once()
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LoggingBootstrap {
    private static let bootstrapped = Mutex(false)

    /// Bootstraps swift-log to stderr; a process may bootstrap only once, so later calls do nothing.
    static func once() {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace  // Each Logger carries its own level.
            return handler
        }
    }
}

/// Prints `message` to stderr as `tutti: error: …` and returns the exit code to throw.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("tutti: error: \(message)\n".utf8))
    return ExitCode(code)
}
