import Foundation

extension SystemModel {
    /// The most actions a routine may hold, and the longest wait in one, so a stored routine
    /// stays something a person can read and a run ends.
    public static let routineLimits = (actions: 100, waitSeconds: 3600.0)

    mutating func putRoutine(_ routine: Routine) throws(ControlError) {
        let name = routine.name.trimmingCharacters(in: .whitespaces)
        guard !NameMatcher.compact(name).isEmpty else { throw .invalidValue("a routine needs a name with letters or digits") }
        guard !routine.actions.isEmpty else { throw .invalidValue("routine '\(name)' has no actions") }
        guard routine.actions.count <= Self.routineLimits.actions else {
            throw .invalidValue("routine '\(name)' has \(routine.actions.count) actions; the most is \(Self.routineLimits.actions)")
        }
        for action in routine.actions {
            if case .wait(let seconds) = action, !(0...Self.routineLimits.waitSeconds).contains(seconds) {
                throw .invalidValue("a wait of \(seconds) s is outside 0...\(Int(Self.routineLimits.waitSeconds)) s")
            }
            if case .changeVolume(_, let delta) = action, !(-100...100).contains(delta) {
                throw .invalidValue("a volume change of \(delta) is outside -100...100")
            }
        }
        for time in routine.times {
            guard (0..<24).contains(time.hour), (0..<60).contains(time.minute), time.weekdays.allSatisfy((1...7).contains) else {
                throw .invalidValue("\(time.hour):\(time.minute) is not a time of day on weekdays 1...7")
            }
        }
        var cleaned = routine
        cleaned.name = name
        cleaned.aliases = routine.aliases.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !NameMatcher.compact($0).isEmpty }
        for phrase in cleaned.phrases {
            let key = NameMatcher.compact(phrase)
            if let other = routines.first(where: { $0.id != routine.id && $0.phrases.contains { NameMatcher.compact($0) == key } }) {
                throw .conflict("routine '\(other.name)' already answers to '\(phrase)'")
            }
        }
        if let index = routines.firstIndex(where: { $0.id == routine.id }) {
            routines[index] = cleaned
        } else {
            routines.append(cleaned)
        }
    }

    /// A routine by ID (by name: ``Targets/routine(_:loosely:)``).
    public func routine(_ id: String) -> Routine? {
        routines.first { $0.id == id }
    }
}
