import Foundation
import TuttiControl

/// `tutti ctl status` for people: each group with its stream and its speakers as a table —
/// volume, latency, channel, whether it plays, and its own report of its sync.
enum StatusTable {
    /// "180 ms", or "180.06 ms" for a latency finer than whole ms.
    static func milliseconds(_ value: Double) -> String {
        value.rounded() == value ? "\(Int(value)) ms" : String(format: "%.2f ms", value)
    }

    static func render(_ status: StatusSnapshot) -> String {
        var lines: [String] = []
        if let party = status.partyGroup, let group = status.groups.first(where: { $0.id == party }) {
            lines.append("Party mode: on (\(group.clients.count) speakers in \(group.displayName))")
        }
        for group in status.groups {
            let stream = status.streams.first { $0.id == group.stream }
            lines.append("")
            lines.append("\(group.displayName) — \(group.stream) (\(stream?.status ?? "?"))\(group.muted ? ", muted" : "")   [group \(group.id.prefix(8))]")
            var rows = [["SPEAKER", "ID", "VOL", "LATENCY", "CHANNEL", "STATE", "SYNC"]]
            for client in group.clients {
                let pair = status.pairs.first { $0.left == client.id || $0.right == client.id }
                let state =
                    Self.reportedState(client)
                    ?? (!client.connected ? "offline"
                        : client.muted || group.muted ? "muted"
                        : stream?.status == "playing" ? "playing" : "idle (no audio)")
                rows.append([
                    client.displayName + (pair.map { " (\($0.name))" } ?? ""), client.id, client.muted ? "\(client.volume) (m)" : "\(client.volume)",
                    milliseconds(client.latency), client.channel, state, sync(client),
                ])
            }
            lines += table(rows).map { "  " + $0 }
        }
        return lines.drop { $0.isEmpty }.joined(separator: "\n")
    }

    /// Whether the server says the speaker plays, and why not ("excluded: out of range…");
    /// nil from an older server, which does not say.
    static func reportedState(_ client: StatusSnapshot.Client) -> String? {
        client.playing.flatMap { playing in
            playing["state"]?.stringValue.map { $0 == "playing" ? $0 : "\($0): \(playing["reason"]?.stringValue ?? "")" }
        }
    }

    /// A speaker's own sync report, briefly; "–" for speakers that send none (snapclient).
    static func sync(_ client: StatusSnapshot.Client) -> String {
        guard client.connected, let sync = client.sync else { return "–" }
        guard sync["locked"] == true else { return "locking…" }
        let error = sync["clockErrorUs"]?.doubleValue ?? 0
        let rate = sync["ratePpm"]?.doubleValue ?? 0
        let buffer = sync["bufferMs"]?.doubleValue ?? 0
        let underruns = sync["underruns"]?.intValue ?? 0
        // A speaker whose time channel is not in use (blocked UDP, a server without it) says so.
        let channel = sync["timeChannel"]?.stringValue == "stream" ? ", clock sync in the stream" : ""
        return String(format: "±%.0f µs, %+.1f ppm, buffer %.0f ms, %d underruns", error, rate, buffer, underruns) + channel
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
