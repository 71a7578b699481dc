#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TuttiAudio
@testable import TuttiOutputs
import TuttiTiming

/// A clock that moves only when told to: tests drive virtual devices through an hour in a blink.
final class ManualClock: TimeSource, Sendable {
    private let time: Mutex<Nanos>

    init(startingAt start: Nanos = 1_000 * .nanosPerSecond) { time = Mutex(start) }

    func now() -> Nanos { time.withLock { $0 } }

    func advance(by nanoseconds: Nanos) { time.withLock { $0 += max(0, nanoseconds) } }

    /// A sleeper that, instead of sleeping, moves this clock forward by the time asked.
    var sleeper: Sleeper { { [self] nanoseconds in advance(by: nanoseconds) } }
}

/// A fresh directory under /tmp, removed by `removeDirectory`.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/tutti-outputs-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Removes a directory made by `makeTemporaryDirectory` and the files and sockets in it,
/// one level of subdirectories included.
func removeDirectory(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != "." && name != ".." else { continue }
            if unlink("\(path)/\(name)") != 0 { removeDirectory("\(path)/\(name)") }
        }
        closedir(directory)
    }
    rmdir(path)
}

/// The whole content of the file at `path` (empty when it cannot be read).
func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// Interleaved test samples that never repeat within `count`: a ramp, offset per channel.
func rampSamples(count: Int, startingAt start: Int = 0) -> [Int16] {
    (0..<count).map { Int16(truncatingIfNeeded: start + $0 &* 7) }
}

/// `samples` as the little-endian bytes an output should produce.
func littleEndianBytes(_ samples: [Int16]) -> [UInt8] {
    samples.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

/// Runs the speaker's loop `periods` times: wait, then write one period of the next samples.
/// Returns the timing reports and the samples written.
func drive(_ output: any AudioOutput, periods: Int) throws(OutputError) -> (timings: [PeriodTiming], samples: [Int16]) {
    var timings: [PeriodTiming] = []
    var all: [Int16] = []
    for _ in 0..<periods {
        let timing = try output.waitForNextPeriod()
        timings.append(timing)
        let block = rampSamples(count: timing.frames * output.format.channels, startingAt: all.count)
        try block.withUnsafeBufferPointer { buffer throws(OutputError) in try output.write(buffer) }
        all += block
    }
    return (timings, all)
}

/// Calls `body` and returns the ``OutputError`` it threw, or nil.
func outputError(_ body: () throws(OutputError) -> Void) -> OutputError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

let stereo48k = SampleFormat(rate: 48_000, bits: 16, channels: 2)
