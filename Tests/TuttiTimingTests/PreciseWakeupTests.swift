import Foundation
import Testing
@testable import TuttiTiming

@Suite struct PreciseWakeupTests {
    /// The thread that asks gets 1 ns of timer slack (read back from the kernel); others keep theirs.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/thread-self/timerslack_ns"),
                   "needs Linux ≥ 4.6 (/proc/thread-self/timerslack_ns)"))
    func theCallingThreadGetsOneNanosecondOfSlack() async {
        @Sendable func slack() -> String? {
            (try? String(contentsOfFile: "/proc/thread-self/timerslack_ns", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let result = await withCheckedContinuation { (done: CheckedContinuation<(Bool, String?, String?), Never>) in
            Thread.detachNewThread {
                let before = slack()
                let granted = requestPreciseWakeups()
                done.resume(returning: (granted, before, slack()))
            }
        }
        #expect(result.0)
        #expect(result.1 != "1")  // the default (50 000 ns unless the process changed it)
        #expect(result.2 == "1")
    }
}
