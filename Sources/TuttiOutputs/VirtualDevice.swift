#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiTiming

/// How a virtual device (pipe, file, null) paces itself; see ``VirtualDevicePacer``.
public struct VirtualDeviceTiming: Equatable, Sendable {
    /// Length of one block, in milliseconds (≤ 50, the pipe contract's limit).
    public var periodMilliseconds: Int
    /// How long before its first frame is due each block is written, in nanoseconds.
    public var lead: Nanos
    /// How late a block may start before the device re-anchors rather than catching up.
    public var maximumLateness: Nanos
    /// How long before its write time a block is begun (rendered); the write itself waits for
    /// the write time. 0: written as soon as rendered.
    public var renderAhead: Nanos

    /// 10 ms blocks written 5 ms ahead; re-anchor after falling 100 ms behind.
    ///
    /// 10 ms keeps the scheduler's decisions fine-grained at 100 writes a second; 5 ms of lead
    /// absorbs a reader's wake-up jitter; 100 ms tolerates scheduling hiccups on a loaded
    /// machine without breaking the audio, while a stopped process re-anchors.
    public static let standard = VirtualDeviceTiming(
        periodMilliseconds: 10, lead: 5 * .nanosPerMillisecond, maximumLateness: 100 * .nanosPerMillisecond)

    /// ``standard``, each block rendered one period (10 ms) before its write time: right after
    /// the previous block is written, so the thread still wakes once per period. A pipe's reader
    /// times the writes (the sync measurement); rendering ahead keeps the render's own duration
    /// (0.1–1 ms in a debug build, varying with the load) out of them, as a real DAC's clock is
    /// out of the CPU's reach. Without it a debug-built speaker's writes wandered by 100–300 µs.
    /// (Rendering 2 ms ahead with a second wake-up per period cost ~1 % of a core per speaker
    /// and measured no better in a release build.)
    public static let pipe = VirtualDeviceTiming(
        periodMilliseconds: standard.periodMilliseconds, lead: standard.lead, maximumLateness: standard.maximumLateness,
        renderAhead: Nanos(standard.periodMilliseconds) * .nanosPerMillisecond)

    /// Creates a timing; `periodMilliseconds` is clamped to 1...50, `renderAhead` to less than
    /// `maximumLateness` and one period.
    public init(periodMilliseconds: Int, lead: Nanos, maximumLateness: Nanos, renderAhead: Nanos = 0) {
        self.periodMilliseconds = min(50, max(1, periodMilliseconds))
        self.lead = max(0, lead)
        self.maximumLateness = max(0, maximumLateness)
        let period = Nanos(self.periodMilliseconds) * .nanosPerMillisecond
        self.renderAhead = max(0, min(renderAhead, self.maximumLateness, period))
    }

    /// Frames per block at `rate` (at least 1).
    func periodFrames(rate: Int) -> Int { max(1, rate * periodMilliseconds / 1000) }
}

/// Puts the calling thread to sleep for a number of nanoseconds (≤ 0: returns at once).
/// Tests substitute one that moves a manual clock instead.
typealias Sleeper = @Sendable (Int64) -> Void

/// `nanosleep`, resumed after signals.
let systemSleeper: Sleeper = { nanoseconds in
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / .nanosPerSecond), tv_nsec: Int(nanoseconds % .nanosPerSecond))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// The thin adapter that runs a ``VirtualDevicePacer`` in real time: reads the output's clock,
/// sleeps until the pacer's write time, and logs re-anchoring. Used on the audio thread only.
struct PacedVirtualDevice {
    private(set) var pacer: VirtualDevicePacer
    let clock: any TimeSource
    let sleep: Sleeper
    let logger: Logger

    init(
        rate: Int, timing: VirtualDeviceTiming, clock: any TimeSource, sleep: @escaping Sleeper,
        logger: Logger = Logger(label: "tutti.output")
    ) {
        pacer = VirtualDevicePacer(
            sampleRate: rate, periodFrames: timing.periodFrames(rate: rate), lead: timing.lead,
            maximumLateness: timing.maximumLateness, renderAhead: timing.renderAhead)
        self.clock = clock
        self.sleep = sleep
        self.logger = logger
    }

    var periodFrames: Int { pacer.periodFrames }

    /// Sleeps until ``VirtualDeviceTiming/renderAhead`` before the next block's write time,
    /// then begins it (the delay it reports counts from then).
    mutating func waitForNextPeriod() -> PeriodTiming {
        if let writeTime = pacer.nextWriteTime { sleep(until: writeTime - pacer.renderAhead) }
        let reanchors = pacer.reanchorCount
        let timing = pacer.beginPeriod(at: clock.now())
        if pacer.reanchorCount != reanchors {
            logger.warning("output fell more than \(pacer.maximumLateness / .nanosPerMillisecond) ms behind, or its clock went back; re-anchored its timeline",
                           metadata: ["reanchors": "\(pacer.reanchorCount)"])
        }
        return timing
    }

    /// Sleeps until the begun block's write time (returns at once when late or idle).
    func waitForWriteTime() {
        if pacer.renderAhead > 0, let writeTime = pacer.nextWriteTime { sleep(until: writeTime) }
    }

    /// Sleeps are measured on the system clock while `instant` is on the output's clock; when
    /// that clock runs slow (negative ppm) one sleep falls short, so it sleeps again. A clock
    /// that went back ends the wait (the next period re-anchors).
    private func sleep(until instant: Nanos) {
        var now = clock.now()
        while now < instant && !pacer.clockWentBack(at: now) {
            sleep(instant - now)
            now = clock.now()
        }
    }

    /// Records that `frames` frames were handed over.
    mutating func framesWritten(_ frames: Int) { pacer.framesWritten(frames) }
}
