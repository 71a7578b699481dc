#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TuttiAudio
@testable import TuttiOutputs
import TuttiTiming

@Suite struct PipeOutputTests {
    let ms = Nanos.nanosPerMillisecond

    @Test(arguments: [stereo48k, SampleFormat(rate: 44_100, bits: 16, channels: 1), SampleFormat(rate: 48_000, bits: 24, channels: 6)])
    func writesExactlyTheSamplesGivenInOrder(format: SampleFormat) throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let clock = ManualClock()
        let output = try PipeOutput(destination: .path("\(directory)/out.raw"), format: format, clock: clock, sleep: clock.sleeper)
        #expect(output.format == SampleFormat(rate: format.rate, bits: 16, channels: format.channels))
        #expect(output.periodFrames == format.rate / 100)
        let (_, samples) = try drive(output, periods: 123)
        output.close()
        #expect(readFile("\(directory)/out.raw") == littleEndianBytes(samples))
    }

    @Test func eachBlockIsRenderedAPeriodAheadAndWrittenOneLeadBeforeItsFirstFrameIsDue() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let clock = ManualClock()
        let output = try PipeOutput(destination: .path("\(directory)/out.raw"), format: stereo48k, clock: clock, sleep: clock.sleeper)
        defer { output.close() }
        let start = clock.now()
        let block = [Int16](repeating: 0, count: output.periodFrames * 2)
        for index in 0..<50 {
            let timing = try output.waitForNextPeriod()
            // Block n starts with frame 480·n, due at start + 10 ms + lead + 10 ms·n, written a
            // lead earlier; it is begun (rendered) one period before that — when the previous
            // block was written — and its delay counts from then.
            let writeTime = start + 10 * ms + Nanos(index) * 10 * ms
            #expect(timing.localNow == writeTime - 10 * ms)
            #expect(timing.delay == 15 * ms)
            // However long the render takes (here 1.5 ms), the write waits for its time.
            clock.advance(by: 1_500_000)
            try block.withUnsafeBufferPointer { buffer throws(OutputError) in try output.write(buffer) }
            #expect(clock.now() == writeTime)
        }
    }

    @Test func aRenderLongerThanThePeriodMakesOnlyThatWriteLate() throws {
        let clock = ManualClock()
        let output = try PipeOutput(destination: .path("/dev/null"), format: stereo48k, clock: clock, sleep: clock.sleeper)
        defer { output.close() }
        let start = clock.now()
        let block = [Int16](repeating: 0, count: output.periodFrames * 2)
        _ = try output.waitForNextPeriod()
        try block.withUnsafeBufferPointer { buffer throws(OutputError) in try output.write(buffer) }
        #expect(clock.now() == start + 10 * ms)
        _ = try output.waitForNextPeriod()
        clock.advance(by: 16 * ms)  // a render of 16 ms: written 6 ms after its time (20 ms), not re-anchored
        try block.withUnsafeBufferPointer { buffer throws(OutputError) in try output.write(buffer) }
        #expect(clock.now() == start + 26 * ms)
        let next = try output.waitForNextPeriod()
        #expect(next.localNow == start + 26 * ms && next.delay == 9 * ms)  // block 2 due at start + 35 ms
        #expect(output.underrunCount == 0)
    }

    @Test func customTimingSetsPeriodAndLead() throws {
        let clock = ManualClock()
        let timing = VirtualDeviceTiming(periodMilliseconds: 20, lead: 2 * ms, maximumLateness: 50 * ms)
        #expect(VirtualDeviceTiming(periodMilliseconds: 10, lead: 0, maximumLateness: 5 * ms, renderAhead: 30 * ms).renderAhead == 5 * ms)
        let output = try PipeOutput(destination: .path("/dev/null"), format: stereo48k, clock: clock, timing: timing, sleep: clock.sleeper)
        defer { output.close() }
        #expect(output.periodFrames == 960)
        let (timings, _) = try drive(output, periods: 3)
        #expect(timings.map(\.delay) == [2 * ms, 2 * ms, 2 * ms])
        #expect(VirtualDeviceTiming(periodMilliseconds: 200, lead: 0, maximumLateness: 0).periodMilliseconds == 50)
    }

    @Test func aFIFOWithoutReaderIsAClearErrorAndOneWithAReaderGetsTheSamples() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/fifo"
        #expect(mkfifo(path, 0o600) == 0)
        let clock = ManualClock()

        let refused = outputError { () throws(OutputError) in
            _ = try PipeOutput(destination: .path(path), format: stereo48k, clock: clock, sleep: clock.sleeper)
        }
        guard case .openFailed(let target, let reason) = refused else {
            Issue.record("expected openFailed, got \(String(describing: refused))")
            return
        }
        #expect(target == path)
        #expect(reason.contains("no process is reading"))

        let reader = open(path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        let output = try PipeOutput(destination: .path(path), format: stereo48k, clock: clock, sleep: clock.sleeper)
        defer { output.close() }
        let (_, samples) = try drive(output, periods: 5)
        var received = [UInt8](repeating: 0, count: 65_536)
        let count = received.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
        #expect(Array(received[0..<max(0, count)]) == littleEndianBytes(samples))

        // The reader leaves: the next write is a typed error, not a SIGPIPE death.
        close(reader)
        let gone = outputError { () throws(OutputError) in _ = try drive(output, periods: 1) }
        #expect(gone == .readerGone(target: path))
        #expect(gone?.description.contains("went away") == true)
    }

    @Test func anUnopenablePathNamesThePathAndTheReason() {
        let clock = ManualClock()
        let error = outputError { () throws(OutputError) in
            _ = try PipeOutput(destination: .path("/nonexistent-tutti-dir/out.raw"), format: stereo48k, clock: clock)
        }
        #expect(error == .openFailed(target: "/nonexistent-tutti-dir/out.raw", reason: describeErrno(ENOENT)))
        #expect(error?.description == "cannot open /nonexistent-tutti-dir/out.raw for writing: No such file or directory (errno 2)")
    }

    @Test func partialFramesEmptyBuffersAndUseAfterClose() throws {
        let clock = ManualClock()
        let output = try PipeOutput(destination: .path("/dev/null"), format: stereo48k, clock: clock, sleep: clock.sleeper)
        let odd: [Int16] = [1, 2, 3]
        let partial = outputError { () throws(OutputError) in try odd.withUnsafeBufferPointer { b throws(OutputError) in try output.write(b) } }
        #expect(partial == .invalidBuffer("3 samples is not a whole number of 2-channel frames"))
        let empty: [Int16] = []
        try empty.withUnsafeBufferPointer { b throws(OutputError) in try output.write(b) }
        output.close()
        output.close()
        #expect(outputError { () throws(OutputError) in _ = try output.waitForNextPeriod() } == .closed(target: "/dev/null"))
    }

    @Test func standardOutputIsNeverClosed() throws {
        let output = try PipeOutput(destination: .standardOutput, format: stereo48k, clock: MonotonicClock())
        output.close()
        #expect(fcntl(STDOUT_FILENO, F_GETFD) != -1)
        #expect(outputError { () throws(OutputError) in _ = try output.waitForNextPeriod() } == .closed(target: "standard output"))
    }

    @Test func unplayableFormatsAreRefused() {
        let error = outputError { () throws(OutputError) in
            _ = try NullOutput(format: SampleFormat(rate: 48_000, bits: 16, channels: 0), clock: MonotonicClock())
        }
        #expect(error == .unsupportedFormat("0 channels is outside 1...8"))
    }

    /// The one test on the real clock: loose bounds, only to show the sleeping adapter sleeps.
    @Test func realTimeSmoke() throws {
        let clock = MonotonicClock()
        let output = try PipeOutput(destination: .path("/dev/null"), format: stereo48k, clock: clock)
        defer { output.close() }
        let began = clock.now()
        let (timings, _) = try drive(output, periods: 21)
        let elapsed = clock.now() - began
        #expect(elapsed >= 150 * ms, "20 periods of 10 ms took only \(elapsed / ms) ms")
        #expect(elapsed < 5_000 * ms)
        #expect(timings.allSatisfy { $0.delay <= 15 * ms && $0.delay > -100 * ms })
    }
}
