import Testing
import TuttiTiming
@testable import TuttiSync

/// Playout decisions with a hand-made clock mapping (server time = local time unless shifted).
@Suite struct PlayoutSchedulerTests {
    static let ms = Nanos.nanosPerMillisecond
    static let t0: Nanos = 1_000 * ms  // server time of the stream's first frame
    static let delay: Nanos = 20 * ms
    static let buffer: Nanos = 100 * ms

    static func identity(shift: Nanos = 0, rate: Double = 1) -> ClockMapping {
        ClockMapping(localReference: 0, serverReference: shift, rate: rate)
    }

    /// Mono 16-bit chunks of 20 ms whose samples count up from `first`.
    static func chunks(from index: Int, count: Int, channels: Int = 1) -> [AudioChunk] {
        (index..<(index + count)).map { c in
            let samples = (0..<(960 * channels)).map { Int16(truncatingIfNeeded: (c * 960 * channels + $0) % 30_000 + 1) }
            return AudioChunk(serverTime: t0 + Nanos(c) * 20 * ms, int16: samples, channels: channels)
        }
    }

    static func scheduler(channels: Int = 1) -> PlayoutScheduler {
        PlayoutScheduler(configuration: .init(sampleRate: 48_000, channels: channels), buffer: buffer)
    }

    /// Local time at which output period `k` (480 frames = 10 ms) starts, the first one 20 ms
    /// (960 frames) before the stream's first frame is due at the DAC.
    static func periodStart(_ k: Int) -> Nanos { t0 + buffer - delay - 20 * ms + Nanos(k) * 10 * ms }

    @Test func startsOnTheExactFrameAndPlaysBitExact() {
        var playout = Self.scheduler()
        for chunk in Self.chunks(from: 0, count: 10) { _ = playout.add(chunk) }
        var out: [Int16] = []
        var buffer: [Float] = []
        for k in 0..<12 {
            let report = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity())
            #expect(report.ratio == 1)
            out += buffer.withUnsafeBufferPointer { AudioChunk.int16(from: $0) }
        }
        #expect(out.prefix(960).allSatisfy { $0 == 0 })
        let expected = Self.chunks(from: 0, count: 10).flatMap { $0.samples.withUnsafeBufferPointer { AudioChunk.int16(from: $0) } }
        #expect(Array(out[960..<(960 + 4800)]) == Array(expected.prefix(4800)))
        #expect(playout.statistics.hardSyncs == 0)
    }

    @Test func stereoStaysInterleaved() {
        var playout = Self.scheduler(channels: 2)
        var samples = [Float](repeating: 0, count: 960 * 2)
        for f in 0..<960 {
            samples[2 * f] = Float(f) / 4096
            samples[2 * f + 1] = -Float(f) / 4096
        }
        for c in 0..<5 { _ = playout.add(AudioChunk(serverTime: Self.t0 + Nanos(c) * 20 * Self.ms, samples: samples, channels: 2)) }
        var buffer: [Float] = []
        for k in 0..<6 {
            _ = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity(rate: 1.0003))
            for f in 0..<480 { #expect(abs(buffer[2 * f] + buffer[2 * f + 1]) < 1e-6) }
        }
    }

    /// A 200 ppm rate and a 500 µs offset step are followed by resampling alone.
    @Test func smallErrorsAndRateDifferencesAreResampledAway() {
        var playout = Self.scheduler()
        var next = 0
        var reports: [PlayoutScheduler.Report] = []
        for k in 0..<2_000 {
            while Nanos(next) * 20 * Self.ms < Nanos(k) * 10 * Self.ms + 500 * Self.ms {
                _ = playout.add(AudioChunk(serverTime: Self.t0 + Nanos(next) * 20 * Self.ms, silentFrames: 960))
                next += 1
            }
            let shift: Nanos = k < 1_000 ? 0 : 500_000
            reports.append(playout.advance(frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity(shift: shift, rate: 1.0002)))
        }
        #expect(playout.statistics.hardSyncs == 0)
        #expect(abs(reports[999].error) < 100)
        #expect(abs(reports[1_000].error) > 400_000)
        #expect(abs(reports[1_999].error) < 1_000)
        #expect(reports.allSatisfy { abs($0.ratio - 1) <= 1.0002 * 1.001 - 1 + 1e-9 })
        print("500 µs step: error after 1 s \(reports[1_100].error) ns, after 5 s \(reports[1_500].error) ns, after 10 s \(reports[1_999].error) ns")
    }

    @Test func largeErrorsJumpWithoutReplaying() {
        var playout = Self.scheduler()
        for chunk in Self.chunks(from: 0, count: 20) { _ = playout.add(chunk) }
        var buffer: [Float] = []
        for k in 0..<10 {
            _ = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity())
        }
        let lastPlayed = buffer.withUnsafeBufferPointer { AudioChunk.int16(from: $0) }.last!
        // The server clock now reads 10 ms earlier: the audio due is 480 frames back.
        let report = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(10), outputDelay: Self.delay, clock: Self.identity(shift: -10 * Self.ms))
        #expect(report.action == .hardSync(frames: -480))
        #expect(buffer.allSatisfy { $0 == 0 })  // padded with silence, nothing replayed
        _ = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(11), outputDelay: Self.delay, clock: Self.identity(shift: -10 * Self.ms))
        let resumed = buffer.withUnsafeBufferPointer { AudioChunk.int16(from: $0) }
        #expect(resumed[479] == lastPlayed + 480)  // continues where it stopped (after the fade-in)
        // And 10 ms later than the truth, it skips ahead.
        let skip = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(12), outputDelay: Self.delay, clock: Self.identity(shift: 10 * Self.ms))
        #expect(skip.action == .hardSync(frames: 960))
    }

    @Test func lateChunksAreDroppedAndAnUnderrunResyncsExactly() {
        var playout = Self.scheduler()
        for chunk in Self.chunks(from: 0, count: 5) { _ = playout.add(chunk) }
        var buffer: [Float] = []
        var dry = 0
        for k in 0..<20 {
            let r = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity())
            if r.ranDry { dry += 1 }
        }
        #expect(dry == 1)
        #expect(playout.statistics.underruns == 1)
        // Chunks 5...7 end before the audio due at the last period (t0 + 170 ms): dropped. Chunk 8
        // is partly in time, and playback resumes inside it at the exact frame due.
        for chunk in Self.chunks(from: 5, count: 12) { _ = playout.add(chunk) }
        #expect(playout.statistics.lateChunks == 3)
        var started: PlayoutScheduler.Report?
        for k in 20..<24 {
            let r = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity())
            if r.action == .started { started = r }
        }
        let due = Self.periodStart(20) + Self.delay - Self.buffer
        #expect(started?.sourceTime == due)
    }

    /// A pause in the source, resuming on another grid, costs nothing: the new audio starts on time.
    @Test func aGapInTheSourceKeepsSync() {
        var playout = Self.scheduler()
        for chunk in Self.chunks(from: 0, count: 5) { _ = playout.add(chunk) }
        let resume = Self.t0 + 300 * Self.ms + 7_000  // 7 µs off the old grid
        for c in 0..<10 {
            _ = playout.add(AudioChunk(serverTime: resume + Nanos(c) * 20 * Self.ms, int16: [Int16](repeating: 1000, count: 960), channels: 1))
        }
        var buffer: [Float] = []
        var output: [Float] = []
        for k in 0..<40 {
            let r = playout.render(into: &buffer, frames: 480, localNow: Self.periodStart(k), outputDelay: Self.delay, clock: Self.identity())
            #expect(!r.ranDry || k > 30)
            output += buffer
        }
        #expect(playout.statistics.underruns <= 1)  // only the real end of the audio
        // Frame of the output at which the resumed audio is due: (resume − first due) × rate.
        let firstDue = Self.periodStart(0) + Self.delay - Self.buffer
        let expected = Double(resume - firstDue) * 48_000 / 1e9
        let firstLoud = output.indices.first { $0 > 960 + 4800 + 100 && abs(output[$0] - 1000 / 32768) < 1e-4 }!
        #expect(abs(Double(firstLoud) - expected) < 20)  // the windowed sinc rings into the first frames
    }
}
