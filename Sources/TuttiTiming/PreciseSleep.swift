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
    callPrctl(29, 1) == 0  // PR_SET_TIMERSLACK
}

/// The calling thread's timer slack in nanoseconds (PR_GET_TIMERSLACK); nil where unknown.
func currentTimerSlack() -> Int? {
    let slack = callPrctl(30, 0)  // PR_GET_TIMERSLACK
    return slack >= 0 ? Int(slack) : nil
}

/// prctl is variadic in C, which Swift cannot call; on the Linux ABIs this code runs on
/// (x86-64, arm64) a call through a fixed five-integer signature passes the same registers.
/// Returns −1 where there is no prctl.
private func callPrctl(_ option: Int32, _ argument: UInt) -> Int32 {
    #if os(Linux)
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    guard let symbol = dlsym(nil, "prctl") else { return -1 }  // RTLD_DEFAULT
    return unsafeBitCast(symbol, to: Prctl.self)(option, argument, 0, 0, 0)
    #else
    return -1
    #endif
}
