/// Runs actions in order — a routine, or what a sentence asked for — and reports what was done.
/// A failing action stops the run; the report says which action failed, why, and what had
/// already been done (that stays done).
///
/// The runner only sequences: performing an action (against the live model, or a copy for a
/// dry run) and waiting (on the server's clock, or not at all) are given to it.
public struct RoutineRunner: Sendable {
    /// Performs one action (never a wait or a run) and says what it did.
    public var perform: @Sendable (RoutineAction) async throws(ControlError) -> String
    /// Waits this many seconds.
    public var wait: @Sendable (Double) async -> Void
    /// Finds a routine by name, as it is now.
    public var routine: @Sendable (String) async throws(ControlError) -> Routine

    public init(
        perform: @escaping @Sendable (RoutineAction) async throws(ControlError) -> String,
        wait: @escaping @Sendable (Double) async -> Void,
        routine: @escaping @Sendable (String) async throws(ControlError) -> Routine
    ) {
        self.perform = perform
        self.wait = wait
        self.routine = routine
    }

    /// - Parameter routine: the name of the routine whose actions these are, if any.
    public func run(_ actions: [RoutineAction], routine: String? = nil) async -> RoutineReport {
        var report = RoutineReport()
        if let routine { report.routines.append(routine) }
        await run(actions, depth: 0, into: &report, path: [])
        return report
    }

    private func run(_ actions: [RoutineAction], depth: Int, into report: inout RoutineReport, path: [Int]) async {
        for (index, action) in actions.enumerated() {
            let here = path + [index + 1]
            switch action {
            case .wait(let seconds):
                await wait(seconds)
                report.done.append("wait \(RoutineAction.format(seconds)) s")
            case .run(let name):
                do throws(ControlError) {
                    guard depth < RoutineEngine.maximumDepth else {
                        throw .invalidValue("routines run each other more than \(RoutineEngine.maximumDepth) deep (a routine that runs itself?)")
                    }
                    let routine = try await routine(name)
                    report.routines.append(routine.name)
                    await run(routine.actions, depth: depth + 1, into: &report, path: here)
                } catch {
                    report.failure = RoutineReport.Failure(step: here, action: action.text, error: error)
                }
            default:
                do {
                    report.done.append(try await perform(action))
                } catch {
                    report.failure = RoutineReport.Failure(step: here, action: action.text, error: error)
                }
            }
            if report.failure != nil { return }
        }
    }
}

/// What a run did.
public struct RoutineReport: Sendable, Equatable {
    public struct Failure: Sendable, Equatable {
        /// The failing action's position, from 1; nested for an action of a routine that was
        /// run by another ([2, 3]: the third action of the routine run by the second).
        public var step: [Int]
        /// The action as a sentence.
        public var action: String
        public var error: ControlError
    }

    /// What each action that ran did, in words, in order.
    public var done: [String] = []
    /// The routines that ran, outermost first.
    public var routines: [String] = []
    public var failure: Failure?

    public init() {}

    public var succeeded: Bool { failure == nil }

    /// `{"ok": true, "done": [...], "routines": [...]}`, and `failed` when an action failed.
    public var json: JSON {
        var object: [String: JSON] = [
            "ok": .bool(succeeded), "done": .array(done.map(JSON.string)), "routines": .array(routines.map(JSON.string)),
        ]
        if let failure {
            let error = RPCError(failure.error)
            object["failed"] = [
                "step": .array(failure.step.map(JSON.int)), "action": .string(failure.action),
                "error": error.json, "reason": .string(failure.error.description),
            ]
        }
        return .object(object)
    }

    /// The error a JSON-RPC call that ran this answers with when an action failed: the failing
    /// action's own code, with this report as its data.
    public func rpcError(label: String) -> RPCError? {
        guard let failure else { return nil }
        let cause = RPCError(failure.error)
        let step = failure.step.map(String.init).joined(separator: ".")
        return RPCError(
            code: cause.code, message: "\(label) stopped at action \(step) ('\(failure.action)'): \(failure.error.description)",
            data: json)
    }
}

extension RoutineRunner {
    /// A runner that acts on a copy of the model and does not wait: what a run would do.
    public static func dryRun(on model: SystemModel) -> RoutineRunner {
        let box = SimulatedModel(model)
        return RoutineRunner(
            perform: { action throws(ControlError) in try box.perform(action) },
            wait: { _ in },
            routine: { name throws(ControlError) in try Targets(box.model).routine(name) })
    }
}

/// A model that dry runs change, one action at a time.
private final class SimulatedModel: @unchecked Sendable {
    // Used by one dry run, whose steps run one after another.
    var model: SystemModel
    private var counter = 0

    init(_ model: SystemModel) {
        self.model = model
    }

    func perform(_ action: RoutineAction) throws(ControlError) -> String {
        // A speaker host's Bluetooth is not part of the model: a dry run only says what it would ask.
        if case .bluetooth = action { return RoutineEngine.describe(action, in: model) }
        return try RoutineEngine.perform(action, model: { model }) { command throws(ControlError) in
            model = try model.applying(command, at: WallTime()) {
                counter += 1
                return "dry-run-\(counter)"
            }.model
        }
    }
}
