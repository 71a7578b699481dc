#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TuttiAudio
@testable import TuttiSources
import TuttiTiming

@Suite("ProcessSource")
struct ProcessSourceTests {
    @Test("reads the child's output, and again after the child is restarted")
    func restartsAfterExit() throws {
        let uri = try SourceURI(parsing: "process:///bin/sh?name=sh&params=-c%20%22printf%20abc%22")
        let source = try SourceFactory.open(uri, allowProcess: true, logger: testLogger)
        defer { source.close() }
        #expect(try readBytes(from: source, count: 3) == Array("abc".utf8))
        // The child exits; within the backoff the source only times out, then the restarted child says abc again.
        #expect(try readBytes(from: source, count: 3, budget: 5 * .nanosPerSecond) == Array("abc".utf8))
        #expect(try readBytes(from: source, count: 3, budget: 5 * .nanosPerSecond) == Array("abc".utf8))
    }

    @Test("during the backoff, reads time out within their timeout")
    func backoffTimesOut() throws {
        let backoff = RestartBackoff(initial: 2 * .nanosPerSecond, maximum: 2 * .nanosPerSecond)
        let source = try ProcessSource(executable: "/bin/true", arguments: [], format: .cd48k, logger: testLogger, backoff: backoff)
        defer { source.close() }
        let clock = MonotonicClock()
        for _ in 0..<3 {
            let start = clock.now()
            #expect(try readOnce(from: source, timeout: 50 * .nanosPerMillisecond) == .timedOut)
            #expect(clock.now() - start < 1 * .nanosPerSecond)
        }
    }

    @Test("a program that does not exist fails at open")
    func missingProgram() throws {
        #expect(throws: SourceError.unavailable("program /nonexistent/program not found")) {
            try ProcessSource(executable: "/nonexistent/program", arguments: [], format: .cd48k, logger: testLogger)
        }
        #expect(throws: SourceError.unavailable("program no-such-program-tutti not found in PATH")) {
            try ProcessSource(executable: "no-such-program-tutti", arguments: [], format: .cd48k, logger: testLogger)
        }
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        writeFile("\(directory)/data.txt", Array("not a program".utf8))
        #expect(throws: SourceError.unavailable("\(directory)/data.txt is not an executable file")) {
            try ProcessSource(executable: "\(directory)/data.txt", arguments: [], format: .cd48k, logger: testLogger)
        }
    }

    @Test("a bare name is found in PATH")
    func searchesPath() throws {
        let source = try ProcessSource(executable: "sh", arguments: ["-c", "printf xy"], format: .cd48k, logger: testLogger)
        defer { source.close() }
        #expect(source.executable.hasSuffix("/sh"))
        #expect(try readBytes(from: source, count: 2) == Array("xy".utf8))
    }

    @Test("process:// is refused when not allowed")
    func refusedWhenNotAllowed() throws {
        let uri = try SourceURI(parsing: "process:///bin/sh?name=evil&params=-c%20reboot")
        #expect(throws: SourceError.self) { try SourceFactory.open(uri, allowProcess: false, logger: testLogger) }
    }

    @Test("close stops a long-running child and reaps it (no zombie)")
    func closeKillsAndReaps() throws {
        // The shell ignores SIGTERM, so close must fall back to SIGKILL.
        let source = try ProcessSource(
            executable: "/bin/sh", arguments: ["-c", "trap '' TERM; echo $$; while :; do sleep 1; done"],
            format: .cd48k, logger: testLogger
        )
        let output = try readBytes(from: source, count: 4, budget: 5 * .nanosPerSecond)
        var pidText = String(decoding: output, as: UTF8.self)
        pidText += String(decoding: try readBytes(from: source, count: 8, budget: 300 * .nanosPerMillisecond), as: UTF8.self)
        let pid = try #require(pid_t(pidText.split(separator: "\n").first ?? ""))
        #expect(kill(pid, 0) == 0)
        source.close()
        #expect(kill(pid, 0) == -1 && errno == ESRCH)  // gone, and reaped (a zombie would still answer)
        source.close()
        #expect(throws: SourceError.self) { try readOnce(from: source, timeout: 0) }
    }

    @Test("wait statuses are described")
    func statusText() {
        #expect(ProcessSource.describe(status: 1 << 8) == "exited with status 1")
        #expect(ProcessSource.describe(status: 9) == "was killed by signal 9")
    }
}
