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

    /// 10 ms blocks written 5 ms ahead; re-anchor after falling 100 ms behind.
    ///
    /// 10 ms keeps the scheduler's decisions fine-grained at 100 writes a second; 5 ms of lead
    /// absorbs a reader's wake-up jitter; 100 ms tolerates scheduling hiccups on a loaded
    /// machine without breaking the audio, while a stopped process re-anchors.
    public static let standard = VirtualDeviceTiming(
        periodMilliseconds: 10, lead: 5 * .nanosPerMillisecond, maximumLateness: 100 * .nanosPerMillisecond)

    /// Creates a timing; `periodMilliseconds` is clamped to 1...50.
    public init(periodMilliseconds: Int, lead: Nanos, maximumLateness: Nanos) {
        self.periodMilliseconds = min(50, max(1, periodMilliseconds))
        self.lead = max(0, lead)
        self.maximumLateness = max(0, maximumLateness)
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
            maximumLateness: timing.maximumLateness)
        self.clock = clock
        self.sleep = sleep
        self.logger = logger
    }

    var periodFrames: Int { pacer.periodFrames }

    /// Sleeps until the next block's write time, then begins it.
    ///
    /// Sleeps are measured on the system clock while the write time is on the output's clock;
    /// when that clock runs slow (negative ppm) one sleep falls short, so it sleeps again.
    mutating func waitForNextPeriod() -> PeriodTiming {
        if let writeTime = pacer.nextWriteTime {
            var now = clock.now()
            while now < writeTime && !pacer.clockWentBack(at: now) {
                sleep(writeTime - now)
                now = clock.now()
            }
        }
        let reanchors = pacer.reanchorCount
        let timing = pacer.beginPeriod(at: clock.now())
        if pacer.reanchorCount != reanchors {
            logger.warning("output fell more than \(pacer.maximumLateness / .nanosPerMillisecond) ms behind, or its clock went back; re-anchored its timeline",
                           metadata: ["reanchors": "\(pacer.reanchorCount)"])
        }
        return timing
    }

    /// Records that `frames` frames were handed over.
    mutating func framesWritten(_ frames: Int) { pacer.framesWritten(frames) }
}
