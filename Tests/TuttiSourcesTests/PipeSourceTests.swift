#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TuttiAudio
import TuttiSources
import TuttiTiming

@Suite("PipeSource")
struct PipeSourceTests {
    @Test("writers may come and go: no EOF, no error, just time-outs in between")
    func writerLeavesAndComesBack() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/fifo"
        let source = try PipeSource(path: path, format: .cd48k, logger: testLogger)
        defer { source.close() }

        var info = stat()
        #expect(stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(try readOnce(from: source, timeout: 20 * .nanosPerMillisecond) == .timedOut)

        let first = pattern(count: 1000, seed: 1)
        var writer = open(path, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        first.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
        close(writer)
        #expect(try readBytes(from: source, count: first.count) == first)
        #expect(try readOnce(from: source, timeout: 30 * .nanosPerMillisecond) == .timedOut)

        let second = pattern(count: 3000, seed: 2)
        writer = open(path, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        second.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
        #expect(try readBytes(from: source, count: second.count) == second)
        close(writer)
        #expect(try readOnce(from: source, timeout: 10 * .nanosPerMillisecond) == .timedOut)
    }

    @Test("an existing FIFO is reused")
    func reusesExistingFIFO() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/fifo"
        #expect(mkfifo(path, 0o600) == 0)
        let source = try PipeSource(path: path, format: .cd48k, logger: testLogger)
        source.close()
        source.close()  // idempotent
        #expect(throws: SourceError.self) { try readOnce(from: source, timeout: 0) }
    }

    @Test("a path that is not a FIFO is refused")
    func refusesRegularFile() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/plain"
        writeFile(path, [1, 2, 3])
        #expect(throws: SourceError.unavailable("\(path) exists and is not a FIFO")) {
            try PipeSource(path: path, format: .cd48k, logger: testLogger)
        }
        #expect(throws: SourceError.self) {
            try PipeSource(path: "/nonexistent-dir-\(getpid())/fifo", format: .cd48k, logger: testLogger)
        }
    }

    @Test("a zero timeout returns at once")
    func zeroTimeout() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let source = try PipeSource(path: "\(directory)/fifo", format: .cd48k, logger: testLogger)
        defer { source.close() }
        let clock = MonotonicClock()
        let start = clock.now()
        #expect(try readOnce(from: source, timeout: 0) == .timedOut)
        #expect(clock.now() - start < .nanosPerSecond)
    }
}
