import Testing
@testable import TuttiControl

@Suite struct NameMatcherTests {
    let candidates = [
        NameMatcher.Candidate(id: "02:aa", names: ["Kitchen", "kitchen-pi"]),
        NameMatcher.Candidate(id: "patio", names: ["Patio Speakers"]),
        NameMatcher.Candidate(id: "lr-left", names: ["Living Room Left"]),
        NameMatcher.Candidate(id: "lr-right", names: ["Living Room Right"]),
        NameMatcher.Candidate(id: "bath", names: ["Bathroom"]),
    ]

    @Test(arguments: [
        ("02:aa", "02:aa"), ("kitchen", "02:aa"), ("the Kitchen", "02:aa"), ("KITCHEN-PI", "02:aa"),
        ("patio", "patio"), ("patio speakers", "patio"), ("Patio speaker", "patio"), ("kitchn", "02:aa"),
        ("living room left", "lr-left"), ("livingroomright", "lr-right"), ("bathroom", "bath"), ("bath", "bath"),
    ])
    func findsWhatPeopleMean(query: String, id: String) {
        #expect(NameMatcher.match(query, among: candidates) == .found(candidates.first { $0.id == id }!))
    }

    @Test func aSharedPrefixIsAmbiguous() {
        guard case .ambiguous(let hits) = NameMatcher.match("living", among: candidates) else { Issue.record("not ambiguous"); return }
        #expect(Set(hits.map(\.id)) == ["lr-left", "lr-right"])
    }

    @Test func unknownNamesGetTheClosestSuggestions() {
        guard case .notFound(let suggestions) = NameMatcher.match("garage", among: candidates) else { Issue.record("found"); return }
        #expect(suggestions.count == 3)
        #expect(NameMatcher.match("", among: candidates) != .found(candidates[0]))
    }
}
