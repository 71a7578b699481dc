import Testing
import TuttiControl

/// A model under test with deterministic IDs (`g1`, `g2`, …) and time, which checks the
/// model's invariants and the store's view after every command.
struct ModelFixture {
    var model: SystemModel
    /// What a store that applied every command's changes would hold.
    var stored = PersistentState()
    var lastOutcome: Outcome?
    private var counter = 0
    private var clock = 1_000

    init(streams: [String] = ["default", "jazz", "radio"]) {
        model = SystemModel(streams: streams.map { StreamInfo(id: $0, uri: "tone://?name=\($0)") })
    }

    /// A fixture with these speakers connected, each in its own group (g1, g2, … in order).
    static func connected(_ ids: [String]) throws -> ModelFixture {
        var fixture = ModelFixture()
        for id in ids { try fixture.connect(id) }
        return fixture
    }

    /// Applies a command, checks invariants and that the store changes reproduce the model's stored part.
    @discardableResult
    mutating func apply(_ command: Command) throws(ControlError) -> Outcome {
        clock += 1
        var counter = self.counter
        let (next, outcome) = try model.applying(command, at: WallTime(sec: clock)) {
            counter += 1
            return "g\(counter)"
        }
        self.counter = counter
        model = next
        stored.apply(outcome.effects.store)
        lastOutcome = outcome
        #expect(model.violations.isEmpty, "after \(command)")
        #expect(stored == model.persistent, "the store's changes after \(command) do not reproduce the model")
        return outcome
    }

    mutating func connect(_ id: String, capabilities: [String] = []) throws(ControlError) {
        try apply(.speakerConnected(SpeakerHello(
            id: id, host: HostInfo(name: "\(id)-host", mac: "02:00:00:00:00:01", ip: "10.0.0.2", os: "Linux", arch: "x86_64"),
            software: SoftwareInfo(name: "Snapclient", version: "0.26.0"), capabilities: capabilities)))
    }

    func groupID(of speaker: String) -> String? { model.group(of: speaker)?.id }

    func members(of speaker: String) -> [String] { model.group(of: speaker)?.speakerIDs ?? [] }

    /// The grouping as sets of members, order-free, for comparing before and after.
    var grouping: Set<Set<String>> { Set(model.groups.map { Set($0.speakerIDs) }) }
}
