import Testing
@testable import TuttiTiming

@Suite struct ChunkPacerTests {
    let ms = Nanos.nanosPerMillisecond

    @Test func timestampsFollowTheSampleClockExactly() {
        // 44.1 kHz, 20 ms chunks = 882 frames: durations are not whole microseconds.
        var pacer = ChunkPacer(framesPerChunk: 441, sampleRate: 44_100)
        let first = pacer.chunkRead(at: 1_000 * ms)
        #expect(first == 1_000 * ms - 10 * ms)
        var previous = first
        for n in 1...100_000 {
            let deadline = pacer.nextDeadline!
            let stamp = pacer.chunkRead(at: deadline + 1 * ms)
            #expect(stamp - previous == 10 * ms)
            previous = stamp
            if n == 100_000 { #expect(stamp == first + Int64(n) * 10 * ms) }
        }
    }

    @Test func nonIntegralChunkDurationsDoNotAccumulateRounding() {
        var pacer = ChunkPacer(framesPerChunk: 1000, sampleRate: 48_000)  // 20.8333… ms
        let anchor = pacer.chunkRead(at: 0) // anchor = -duration
        var last: Nanos = 0
        for _ in 0..<48_000 { last = pacer.chunkRead(at: pacer.nextDeadline!) }
        // Chunk 48,000 starts 48,000,000 frames = exactly 1,000 s after the anchor.
        #expect(last == anchor + 1_000 * .nanosPerSecond)
        #expect(anchor == -20_833_333)
    }

    @Test func deadlinesPaceByRealTime() {
        var pacer = ChunkPacer(framesPerChunk: 960, sampleRate: 48_000)
        #expect(pacer.nextDeadline == nil)
        _ = pacer.chunkRead(at: 500 * ms)
        #expect(pacer.nextDeadline == 520 * ms)
        _ = pacer.chunkRead(at: 520 * ms)
        #expect(pacer.nextDeadline == 540 * ms)
    }

    @Test func briefShortfallKeepsTheClockLongPauseReanchors() {
        var pacer = ChunkPacer(framesPerChunk: 960, sampleRate: 48_000, idleAfter: 200 * ms)
        _ = pacer.chunkRead(at: 0)
        #expect(pacer.nothingRead(at: 20 * ms + 199 * ms) == false)
        // The data came 150 ms late: same clock, late chunk.
        #expect(pacer.chunkRead(at: 170 * ms) == 0)
        #expect(pacer.nothingRead(at: 40 * ms + 200 * ms) == true)
        #expect(pacer.state == .idle)
        #expect(pacer.chunkRead(at: 5_000 * ms) == 4_980 * ms)
    }

    @Test func runningTooFarBehindReanchors() {
        var pacer = ChunkPacer(framesPerChunk: 960, sampleRate: 48_000, maximumLag: 300 * ms)
        _ = pacer.chunkRead(at: 0)
        #expect(pacer.chunkRead(at: 320 * ms) == 0)          // 300 ms behind: still on the clock
        #expect(pacer.chunkRead(at: 361 * ms) == 341 * ms)   // 301 ms behind: re-anchored
    }
}

@Suite struct DueQueueTests {
    @Test func expiredChunksAreDroppedForThisConsumerOnly() {
        var queue = DueQueue<Int>(horizon: 1000)
        for t in stride(from: 0, to: 100, by: 10) { queue.push(timestamp: Nanos(t), payload: t, now: Nanos(t)) }
        #expect(queue.count == 10)
        #expect(queue.pop(now: 1_025)?.payload == 30)  // 0, 10, 20 expired (t + 1000 < 1025)
        #expect(queue.dropped == 3)
        #expect(queue.count == 6)
    }

    @Test func staysBoundedUnderSustainedLoad() {
        var queue = DueQueue<Int>(horizon: 1_000)
        for t in 0..<100_000 { queue.push(timestamp: Nanos(t * 20), payload: t, now: Nanos(t * 20)) }
        #expect(queue.count <= 51)
        #expect(queue.entries.count < 200)
        #expect(queue.pop(now: 2_000_000)?.payload != nil)
    }
}
