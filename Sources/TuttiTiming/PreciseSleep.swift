#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks the kernel to wake the calling thread from its sleeps on time.
///
/// Linux lets a timer expire up to the thread's *timer slack* late (50 µs by default) so that
/// wake-ups can be batched. A thread that paces audio or delays packets by a model sleeps
/// thousands of times a second and needs its wake-ups where it asked: with the default slack
/// most land ~50 µs late and a few on time, which turns a sharp delay floor into a fuzzy one.
/// Call at the top of such a thread. Linux only (PR_SET_TIMERSLACK); a no-op elsewhere.
/// Returns whether the slack is now 1 ns.
@discardableResult
public func requestPreciseWakeups() -> Bool {
    #if os(Linux)
    // prctl is variadic in C, which Swift cannot call; on the Linux ABIs this code runs on
    // (x86-64, arm64) a call through a fixed five-integer signature passes the same registers.
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    guard let symbol = dlsym(nil, "prctl") else { return false }  // RTLD_DEFAULT
    let prctl = unsafeBitCast(symbol, to: Prctl.self)
    let setTimerSlack: Int32 = 29  // PR_SET_TIMERSLACK
    return prctl(setTimerSlack, 1, 0, 0, 0) == 0
    #else
    return false
    #endif
}
