import Foundation
import TuttiControl

extension ControlPlane {
    /// Performs one action of a run against the live model: each of its commands is applied
    /// (stored, sent to speakers and clients) like any other change.
    ///
    /// A Bluetooth action goes to the speaker host that has the speaker (as `Bluetooth.Connect`
    /// or `.Disconnect` from the API would).
    func perform(_ action: RoutineAction) async throws(ControlError) -> String {
        if case .bluetooth(let connect, let device) = action {
            do {
                _ = try await relay(connect ? "Bluetooth.Connect" : "Bluetooth.Disconnect", params: ["device": .string(device)], host: nil)
            } catch {
                if error.code == RPCError.notSupported("").code, case .string(let detail)? = error.data { throw .unavailable(detail) }
                throw .refused(error)
            }
            return RoutineEngine.describe(action, in: model)
        }
        return try RoutineEngine.perform(action, model: { model }) { command throws(ControlError) in
            try apply(command, origin: nil)
        }
    }

    func findRoutine(_ name: String) throws(ControlError) -> Routine {
        try Targets(model).routine(name)
    }

    /// Runs actions against the live model, waiting on the routine clock; logs the outcome and
    /// tells every other client (Routine.OnRun).
    func run(_ actions: [RoutineAction], label: String, routine: String? = nil, trigger: String, origin: (any ControlClient)?) async -> RoutineReport {
        let clock = routineClock
        let runner = RoutineRunner(
            perform: { action throws(ControlError) in try await self.perform(action) },
            wait: { seconds in await clock.sleep(seconds: seconds) },
            routine: { name throws(ControlError) in try await self.findRoutine(name) })
        let report = await runner.run(actions, routine: routine)
        if let failure = report.failure {
            logger.warning("\(label) (\(trigger)) stopped at action \(failure.step.map(String.init).joined(separator: ".")) '\(failure.action)': \(failure.error)")
        } else {
            logger.info("\(label) (\(trigger)): \(report.done.joined(separator: "; "))")
        }
        var params = report.json.objectValue ?? [:]
        params["label"] = .string(label)
        params["trigger"] = .string(trigger)
        notify(ControlAPI.Notification(method: "Routine.OnRun", params: .object(params), audience: .tutti), except: origin)
        return report
    }

    /// Runs a routine that a time or an event triggered, beside whatever else is going on.
    func runTriggered(_ id: String, trigger: String) {
        guard let routine = model.routines.first(where: { $0.id == id }), routine.enabled else { return }
        Task { _ = await self.run(routine.actions, label: "routine '\(routine.name)'", routine: routine.name, trigger: trigger, origin: nil) }
    }

    /// Runs the routines whose event triggers fire on what changed between two models.
    func runEventTriggers(from previous: SystemModel, to next: SystemModel) {
        let events = ObservedEvent.changes(from: previous, to: next)
        for routine in next.routines(triggeredBy: events) {
            let what = events.map { "\($0.kind.rawValue) \($0.subject)" }.joined(separator: ", ")
            runTriggered(routine.id, trigger: "event: \(what)")
        }
    }

    /// (Re)starts the timer that runs routines at their times of day: it sleeps on the routine
    /// clock until the next time any enabled routine has, then runs the routines due since it
    /// last looked — each once, however far the clock jumped.
    ///
    /// Routines already scheduled whose time came but whose timer had not woken yet run first,
    /// so a change made at that moment loses no run; a routine made or changed now runs from
    /// its next time on.
    func scheduleRoutineTimes() {
        let clock = routineClock
        let now = clock.now()
        if timerTask != nil, let last = timesCheckedAt {
            for routine in schedule.due(after: last, through: now, in: timedRoutines) { runTimed(routine.id, at: now) }
        }
        timerTask?.cancel()
        timesCheckedAt = now
        timedRoutines = model.routines.filter { $0.enabled && !$0.times.isEmpty }
        guard !timedRoutines.isEmpty else {
            timerTask = nil
            return
        }
        let schedule = self.schedule
        timerTask = Task {
            while !Task.isCancelled {
                guard let last = self.timesCheckedAt, let next = schedule.next(after: last, in: self.timedRoutines) else { return }
                await clock.sleep(until: next)
                let now = clock.now()
                guard !Task.isCancelled, now >= next else { continue }
                for routine in schedule.due(after: last, through: now, in: self.timedRoutines) { self.runTimed(routine.id, at: now) }
                self.timesCheckedAt = now
            }
        }
    }

    private func runTimed(_ id: String, at now: Date) {
        runTriggered(id, trigger: "time \(RoutineSchedule.describe(now, in: schedule.timeZone))")
    }

    /// Starts the timer of routines' times of day (when the server is listening).
    func startRoutines() {
        scheduleRoutineTimes()
        let timed = model.routines.filter { $0.enabled && !$0.times.isEmpty }.count
        if timed > 0 { logger.info("\(timed) routine(s) with times of day, in time zone \(schedule.timeZone.identifier)") }
    }

    func stopRoutineTimes() {
        timerTask?.cancel()
        timerTask = nil
    }
}

extension RoutineSchedule {
    static func describe(_ date: Date, in timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return formatter.string(from: date)
    }
}
