#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TuttiAudio
import TuttiSources
import TuttiTiming

@Suite("TCPSource")
struct TCPSourceTests {
    @Test("server mode: reads a client, times out when it leaves, reads the next one")
    func serverMode() throws {
        let uri = try SourceURI(parsing: "tcp://127.0.0.1:0?name=t&mode=server")
        let source = try #require(try SourceFactory.open(uri, allowProcess: false, logger: testLogger) as? TCPSource)
        defer { source.close() }
        #expect(source.port > 0)
        #expect(try readOnce(from: source, timeout: 20 * .nanosPerMillisecond) == .timedOut)

        let first = TestSocket.connectToLoopback(port: source.port)
        #expect(first >= 0)
        TestSocket.sendAll(first, pattern(count: 5000, seed: 3))
        #expect(try readBytes(from: source, count: 5000) == pattern(count: 5000, seed: 3))
        close(first)
        #expect(try readOnce(from: source, timeout: 50 * .nanosPerMillisecond) == .timedOut)

        let second = TestSocket.connectToLoopback(port: source.port)
        defer { close(second) }
        TestSocket.sendAll(second, pattern(count: 100, seed: 4))
        #expect(try readBytes(from: source, count: 100) == pattern(count: 100, seed: 4))
    }

    @Test("server mode: a new client replaces the connected one")
    func newClientReplacesOld() throws {
        let source = try TCPSource(host: "127.0.0.1", port: 0, mode: .server, format: .cd48k, logger: testLogger)
        defer { source.close() }
        let old = TestSocket.connectToLoopback(port: source.port)
        defer { close(old) }
        TestSocket.sendAll(old, [1, 2, 3])
        #expect(try readBytes(from: source, count: 3) == [1, 2, 3])
        let new = TestSocket.connectToLoopback(port: source.port)
        defer { close(new) }
        TestSocket.sendAll(new, [4, 5, 6])
        #expect(try readBytes(from: source, count: 3) == [4, 5, 6])
        signal(SIGPIPE, SIG_IGN)  // writing to the closed connection must not kill the test process
        TestSocket.sendAll(old, [7, 7, 7])  // the old connection is closed: these never arrive
        #expect(try readBytes(from: source, count: 1, budget: 200 * .nanosPerMillisecond) == [])
    }

    @Test("server mode: a port in use is unavailable, naming it")
    func portInUse() throws {
        let (listener, port) = TestSocket.listenOnLoopback()
        defer { close(listener) }
        do {
            _ = try TCPSource(host: "127.0.0.1", port: port, mode: .server, format: .cd48k, logger: testLogger)
            Issue.record("bound a port in use")
        } catch {
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(error.description.contains("Address already in use"))
        }
    }

    @Test("client mode: connects, reconnects after the server drops it")
    func clientMode() throws {
        let (listener, port) = TestSocket.listenOnLoopback()
        defer { close(listener) }
        let uri = try SourceURI(parsing: "tcp://127.0.0.1:\(port)?name=c&mode=client")
        let source = try SourceFactory.open(uri, allowProcess: false, logger: testLogger)
        defer { source.close() }
        #expect(try readOnce(from: source, timeout: 50 * .nanosPerMillisecond) == .timedOut)  // connects meanwhile

        let first = TestSocket.acceptOne(listener, timeoutMilliseconds: 2000)
        #expect(first >= 0)
        TestSocket.sendAll(first, pattern(count: 2048, seed: 5))
        #expect(try readBytes(from: source, count: 2048) == pattern(count: 2048, seed: 5))
        close(first)

        // The source notices the drop on its next read and reconnects after 250 ms.
        #expect(try readOnce(from: source, timeout: 20 * .nanosPerMillisecond) == .timedOut)
        let clock = MonotonicClock()
        let giveUp = clock.now() + 5 * .nanosPerSecond
        var second: Int32 = -1
        while second < 0, clock.now() < giveUp {
            _ = try readOnce(from: source, timeout: 50 * .nanosPerMillisecond)
            second = TestSocket.acceptOne(listener, timeoutMilliseconds: 10)
        }
        #expect(second >= 0)
        defer { close(second) }
        TestSocket.sendAll(second, [42, 43])
        #expect(try readBytes(from: source, count: 2) == [42, 43])
    }

    @Test("client mode: nobody listening means time-outs, not errors")
    func clientModeWithoutServer() throws {
        let (listener, port) = TestSocket.listenOnLoopback()
        close(listener)  // now nothing listens on `port`
        let source = try TCPSource(host: "127.0.0.1", port: port, mode: .client, format: .cd48k, logger: testLogger)
        defer { source.close() }
        for _ in 0..<3 {
            #expect(try readOnce(from: source, timeout: 30 * .nanosPerMillisecond) == .timedOut)
        }
        source.close()
        #expect(throws: SourceError.self) { try readOnce(from: source, timeout: 0) }
    }
}
