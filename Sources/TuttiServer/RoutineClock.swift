import Foundation

/// The wall clock routines run by: what time it is (for times of day) and waiting (for a
/// routine's waits and the next time of day). Injected, so tests move time by hand.
public protocol RoutineClock: Sendable {
    func now() -> Date
    /// Returns once `deadline` has passed, or early when the task is cancelled.
    func sleep(until deadline: Date) async
}

extension RoutineClock {
    public func sleep(seconds: Double) async { await sleep(until: now().addingTimeInterval(seconds)) }
}

/// The system's clock. Sleeps in steps of at most a minute and looks at the clock again after
/// each, so a clock set by NTP (or a laptop that slept) is noticed within a minute.
public struct SystemRoutineClock: RoutineClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async {
        while !Task.isCancelled {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return }
            try? await Task.sleep(for: .seconds(min(remaining, 60)))
        }
    }
}
