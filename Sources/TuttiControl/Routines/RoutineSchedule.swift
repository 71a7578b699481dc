import Foundation

/// When routines' times of day come, in a time zone: instants computed from local dates, so a
/// 07:00 routine runs at 07:00 on both sides of a daylight-saving change. Pure: the server's
/// clock says what "now" is.
///
/// A time that does not exist on the day (02:30 when clocks jump from 02:00 to 03:00) runs when
/// the clocks have jumped, an hour later by the clock on the wall (03:30); a time that comes
/// twice (02:30 when clocks go back) runs the first time only.
public struct RoutineSchedule: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The first instant strictly after `date` at which the trigger runs.
    public func next(_ trigger: TimeTrigger, after date: Date) -> Date? {
        let today = calendar.startOfDay(for: date)
        for offset in 0...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let weekday = parts.weekday, trigger.runs(onWeekday: weekday) else { continue }
            var wanted = DateComponents()
            (wanted.year, wanted.month, wanted.day) = (parts.year, parts.month, parts.day)
            (wanted.hour, wanted.minute, wanted.second) = (trigger.hour, trigger.minute, 0)
            guard let instant = calendar.date(from: wanted) else { continue }
            // A repeated local time: the earlier of the two instants is the one that runs.
            let earlier = instant.addingTimeInterval(-3600)
            let first = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: earlier) == localParts(wanted) ? earlier : instant
            if first > date { return first }  // else it ran already (the second of a repeated time never runs): the next day
        }
        return nil
    }

    private func localParts(_ wanted: DateComponents) -> DateComponents {
        DateComponents(year: wanted.year, month: wanted.month, day: wanted.day, hour: wanted.hour, minute: wanted.minute)
    }

    /// The next instant after `date` at which any enabled routine has a time.
    public func next(after date: Date, in routines: [Routine]) -> Date? {
        routines.filter(\.enabled).flatMap { routine in routine.times.compactMap { next($0, after: date) } }.min()
    }

    /// The enabled routines with a time in (`start`, `end`], each once however many times
    /// passed (a server that slept through several runs each routine once when it wakes).
    public func due(after start: Date, through end: Date, in routines: [Routine]) -> [Routine] {
        routines.filter { routine in
            routine.enabled && routine.times.contains { time in next(time, after: start).map { $0 <= end } ?? false }
        }
    }
}
