import Testing
import TuttiControl
@testable import TuttiServer

/// A calibration started right after a speaker connected keeps its young clock's error: the
/// answer warns about each such speaker, and only about those.
@Suite struct CalibrationWarningTests {
    @Test func speakersThatJustConnectedAreNamedInAWarning() {
        let now = 1_700_000_100.0
        let speakers = [
            Speaker(id: "new", name: "Patio", connected: true, lastSeen: WallTime(seconds: now - 3)),
            Speaker(id: "old", name: "Kitchen", connected: true, lastSeen: WallTime(seconds: now - 60)),
            Speaker(id: "gone", name: "Garage", connected: false, lastSeen: WallTime(seconds: now - 1)),
        ]
        let warnings = ControlPlane.youngClocks(speakers, now: now)
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("Patio connected 3 s ago: its clock may still be settling") == true, "\(warnings)")
        #expect(ControlPlane.youngClocks(speakers, now: now + ControlPlane.clockSettlingSeconds).isEmpty)
    }
}
