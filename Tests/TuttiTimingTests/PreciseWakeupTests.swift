import Foundation
import Testing
@testable import TuttiTiming

@Suite struct PreciseWakeupTests {
    /// The thread that asks gets 1 ns of timer slack (read back from the kernel); a thread that
    /// does not ask keeps the default.
    static let isLinux: Bool = {
        #if os(Linux)
        true
        #else
        false
        #endif
    }()

    @Test(.enabled(if: isLinux, "timer slack is a Linux setting"))
    func theCallingThreadGetsOneNanosecondOfSlack() async {
        let result = await withCheckedContinuation { (done: CheckedContinuation<(Bool, Int?, Int?), Never>) in
            Thread.detachNewThread {
                let before = currentTimerSlack()
                let granted = requestPreciseWakeups()
                done.resume(returning: (granted, before, currentTimerSlack()))
            }
        }
        let other = await withCheckedContinuation { (done: CheckedContinuation<Int?, Never>) in
            Thread.detachNewThread { done.resume(returning: currentTimerSlack()) }
        }
        #expect(result.0)
        #expect((result.1 ?? 0) > 1)  // the default, 50 000 ns unless the process changed it
        #expect(result.2 == 1)
        #expect((other ?? 0) > 1)
    }
}
