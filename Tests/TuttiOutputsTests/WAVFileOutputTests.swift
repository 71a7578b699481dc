import Testing
import TuttiAudio
@testable import TuttiOutputs
import TuttiTiming

@Suite struct WAVFileOutputTests {
    @Test func closeFinalizesTheHeaderAndTheDataIsExact() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/take.wav"
        let clock = ManualClock()
        let output = try WAVFileOutput(path: path, format: SampleFormat(rate: 48_000, bits: 24, channels: 2), clock: clock, sleep: clock.sleeper)
        let (_, samples) = try drive(output, periods: 37)
        output.close()
        output.close()

        let bytes = readFile(path)
        let header = try WAVHeader.parse(bytes)
        #expect(header.format == stereo48k)  // 16-bit whatever the stream's bits
        #expect(header.dataOffset == 44)
        #expect(Int(header.dataSize) == samples.count * 2)
        #expect(Array(bytes[44...]) == littleEndianBytes(samples))
        #expect(bytes.count == 44 + samples.count * 2)
    }

    @Test func theHeaderIsRewrittenEverySecondSoACrashLeavesAPlayableFile() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = "\(directory)/crash.wav"
        let clock = ManualClock()
        let output = try WAVFileOutput(path: path, format: stereo48k, clock: clock, sleep: clock.sleeper)
        defer { output.close() }

        // Before the first second: the streaming placeholder, sizes unknown.
        _ = try drive(output, periods: 50)
        #expect(try WAVHeader.parse(readFile(path)).dataSize == WAVHeader.unknownSize)

        // After 1.5 s, read the file as a crash would leave it (no close): the header covers
        // the first second, the file holds all of it.
        _ = try drive(output, periods: 100)
        let bytes = readFile(path)
        let header = try WAVHeader.parse(bytes)
        #expect(header.dataSize == 48_000 * 4)
        #expect(bytes.count == 44 + 72_000 * 4)
        #expect(output.dataBytesWritten == 72_000 * 4)
    }

    @Test func anUnwritablePathIsAClearError() {
        let clock = ManualClock()
        let error = outputError { () throws(OutputError) in
            _ = try WAVFileOutput(path: "/nonexistent-tutti-dir/take.wav", format: stereo48k, clock: clock)
        }
        #expect(error == .openFailed(target: "/nonexistent-tutti-dir/take.wav", reason: "No such file or directory (errno 2)"))
    }

    @Test func aFullDiskIsAClearError() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let clock = ManualClock()
        let error = outputError { () throws(OutputError) in
            _ = try WAVFileOutput(path: "/dev/full", format: stereo48k, clock: clock)
        }
        #expect(error == .writeFailed(target: "/dev/full", reason: "No space left on device (errno 28)"))
        #expect(error?.description == "writing to /dev/full failed: No space left on device (errno 28)")
    }
}
