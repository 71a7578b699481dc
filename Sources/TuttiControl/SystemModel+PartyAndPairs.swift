extension SystemModel {
    /// The name of party mode's group.
    public static let everywhereName = "Everywhere"

    mutating func partyOn(stream requested: String?, newID: () -> String) throws(ControlError) {
        if let requested { try requireStream(requested) }
        if let party, let index = groups.firstIndex(where: { $0.id == party.groupID }) {
            // Already on: only the stream can change.
            if let requested { groups[index].streamID = requested }
            return
        }
        let stream = requested ?? busiestStream
        let saved = groups
        let id = newID()
        groups = [SpeakerGroup(id: id, name: Self.everywhereName, streamID: stream, speakerIDs: saved.flatMap(\.speakerIDs))]
        party = PartyMode(groupID: id, savedGroups: saved)
    }

    mutating func partyOff(newID: () -> String) {
        guard let party else { return }
        let everywhere = group(party.groupID)
        var restored: [SpeakerGroup] = []
        var placed = Set<String>()
        for var saved in party.savedGroups {
            saved.speakerIDs = saved.speakerIDs.filter { speaker($0) != nil && placed.insert($0).inserted }
            if stream(saved.streamID) == nil { saved.streamID = defaultStreamID }
            if !saved.speakerIDs.isEmpty { restored.append(saved) }
        }
        // Groups the user made during the party stay as they are.
        let others = groups.filter { $0.id != party.groupID }
        for group in others { group.speakerIDs.forEach { placed.insert($0) } }
        restored.removeAll { group in others.contains { $0.id == group.id } }
        for index in restored.indices { restored[index].speakerIDs.removeAll { id in others.contains { $0.speakerIDs.contains(id) } } }
        restored.removeAll { $0.speakerIDs.isEmpty }
        // Speakers that joined during the party get a group each, playing the party's stream.
        let newcomers = speakers.map(\.id).filter { !placed.contains($0) }
        groups = restored + others
        for unit in units(newcomers) {
            groups.append(SpeakerGroup(id: newID(), streamID: everywhere?.streamID ?? defaultStreamID, speakerIDs: unit))
        }
        self.party = nil
        keepPairsTogether()
    }

    /// The stream of the group with the most connected speakers (ties: the first such group).
    private var busiestStream: String {
        let connected = { (group: SpeakerGroup) in group.speakerIDs.filter { speaker($0)?.connected == true }.count }
        return groups.max { connected($0) < connected($1) }.map(\.streamID) ?? defaultStreamID
    }

    /// Moves each pair's right speaker into its left speaker's group where they ended up apart.
    mutating func keepPairsTogether() {
        for pair in pairs { move(pair.right, intoGroupOf: pair.left) }
    }

    // MARK: Stereo pairs

    mutating func createPair(left: String, right: String, name: String?, newID: () -> String) throws(ControlError) -> String {
        let leftIndex = try speakerIndex(left)
        let rightIndex = try speakerIndex(right)
        guard left != right else { throw .invalidValue("a stereo pair needs two different speakers") }
        for id in [left, right] {
            if let pair = pair(of: id) { throw .conflict("speaker '\(id)' is already in stereo pair '\(pair.name)'") }
        }
        // The right speaker joins the left one's group, and takes its volume and mute.
        move(right, intoGroupOf: left)
        speakers[rightIndex].volume = speakers[leftIndex].volume
        speakers[rightIndex].muted = speakers[leftIndex].muted
        speakers[leftIndex].channel = .left
        speakers[rightIndex].channel = .right
        let id = newID()
        let pairName = name ?? "\(speakers[leftIndex].displayName) + \(speakers[rightIndex].displayName)"
        pairs.append(StereoPair(id: id, name: pairName, left: left, right: right))
        return id
    }

    mutating func deletePair(_ id: String) throws(ControlError) {
        guard let pair = pair(id) else { throw .unknownPair(id) }
        pairs.removeAll { $0.id == id }
        for member in pair.members {
            if let index = speakers.firstIndex(where: { $0.id == member }) { speakers[index].channel = .stereo }
        }
    }
}

/// Group volume as Snapcast's tools do it: one slider for the group, the members keep their ratios.
public enum GroupVolume {
    /// Scales `volumes` so that their mean is `mean` (0...100), keeping their ratios as far as
    /// the 0...100 range allows: members that would pass 100 stop there and the others make up
    /// the rest. All-zero volumes all become `mean`.
    public static func scaled(_ volumes: [Int], toMean mean: Int) -> [Int] {
        guard !volumes.isEmpty else { return [] }
        guard volumes.contains(where: { $0 > 0 }), mean > 0 else { return volumes.map { _ in mean } }
        let target = Double(mean)
        let average = { (factor: Double) in
            volumes.map { min(100, Double($0) * factor) }.reduce(0, +) / Double(volumes.count)
        }
        // The mean grows monotonically with the factor: bisect for it.
        var low = 0.0
        var high = 100.0 / Double(volumes.filter { $0 > 0 }.min() ?? 1)
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if average(middle) < target { low = middle } else { high = middle }
        }
        return volumes.map { Int(min(100, (Double($0) * high).rounded())) }
    }
}
