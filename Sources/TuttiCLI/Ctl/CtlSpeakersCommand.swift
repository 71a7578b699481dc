import ArgumentParser
import Foundation
import TuttiControl

/// `tutti ctl speakers`: every speaker the server knows, one line each; with `--capabilities`
/// the capability table — what each speaker's host can do.
struct CtlSpeakers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speakers", abstract: "Every speaker, or with --capabilities what each one's host can do.",
        discussion: """
            Without options: each speaker's name, ID, group, host, software, whether it plays and its \
            sync. With --capabilities, one row per speaker: the output it plays to, how many sound \
            outputs and inputs its host has (with --devices, each one and the URI to use it: an input \
            is a line-in source for `tutti server --source`), whether it can play one side of a stereo \
            pair, its host's Bluetooth adapters (BlueZ version, whether they send to speakers and \
            receive from phones, connected of the adapter's limit) and its sync. A snapclient does not \
            report its host's capabilities; the row says so.
            """)
    @OptionGroup var options: CtlOptions
    @Flag(name: .long, help: "What each speaker's host can do (the capability table).") var capabilities = false
    @Flag(name: .long, help: "With --capabilities: list each host's sound outputs and inputs.") var devices = false
    @Argument(help: "Only this speaker.") var speaker: String?

    func validate() throws {
        if devices && !capabilities { throw ValidationError("--devices goes with --capabilities") }
    }

    func run() async throws {
        try await options.run { connection, status in
            let only = try speaker.map { try status.speaker($0) }
            guard capabilities else {
                let clients = status.groups.flatMap { group in group.clients.map { (group, $0) } }.filter { only == nil || $0.1.id == only?.id }
                var rows = [["SPEAKER", "ID", "GROUP", "HOST", "SOFTWARE", "STATE", "SYNC"]]
                for (group, client) in clients {
                    rows.append([client.displayName, client.id, group.displayName, client.hostName, client.software,
                                 StatusTable.reportedState(client) ?? (client.connected ? "connected" : "offline"), StatusTable.sync(client)])
                }
                return CtlOutput(text: StatusTable.table(rows).joined(separator: "\n"), json: try await connection.call("Server.GetStatus"))
            }
            let result: JSON
            let entries: [JSON]
            if let only {
                result = try await connection.call("Client.GetCapabilities", ["id": .string(only.id)], timeout: .seconds(15))
                entries = result["speaker"].map { [$0] } ?? []
            } else {
                result = try await connection.call("Server.GetCapabilities", timeout: .seconds(15))
                entries = result["speakers"]?.arrayValue ?? []
            }
            let clients = status.groups.flatMap(\.clients)
            return CtlOutput(text: Self.render(entries, devices: devices, clients: clients), json: result)
        }
    }

    static func render(_ entries: [JSON], devices: Bool, clients: [StatusSnapshot.Client]) -> String {
        guard !entries.isEmpty else { return "no speakers" }
        var rows = [["SPEAKER", "HOST", "OUTPUT", "OUTPUTS", "INPUTS", "PAIRS", "BLUETOOTH", "SYNC", "NOTE"]]
        var details: [String] = []
        for entry in entries {
            let name = entry["name"]?.stringValue ?? entry["id"]?.stringValue ?? "?"
            let host = entry["host"]?["name"]?.stringValue ?? ""
            let sync = clients.first { $0.id == entry["id"]?.stringValue }.map(StatusTable.sync) ?? "–"
            guard let table = entry["capabilities"] else {
                let reason = entry["unavailable"]?["message"]?.stringValue ?? "unknown"
                rows.append([name, host, "–", "–", "–", "–", "–", sync, reason])
                continue
            }
            let outputs = table["outputs"]?.arrayValue ?? []
            let inputs = table["inputs"]?.arrayValue ?? []
            rows.append([
                name, table["hostname"]?.stringValue ?? host, table["output"]?.stringValue ?? "",
                "\(outputs.count)", "\(inputs.filter { $0["monitor"] != true }.count)",
                table["stereoPair"] == true ? "yes" : "no", bluetooth(table["bluetooth"]), sync,
                (table["problems"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "; "),
            ])
            if devices {
                details.append("")
                details.append("\(name) on \(table["hostname"]?.stringValue ?? host):")
                for (title, list) in [("outputs", outputs), ("inputs", inputs)] {
                    details.append("  \(title):" + (list.isEmpty ? " none" : ""))
                    details += StatusTable.table(list.map(device)).map { "    " + $0 }
                }
            }
        }
        return (StatusTable.table(rows) + details).joined(separator: "\n")
    }

    /// One device row: its URI, description, format and what it is.
    private static func device(_ device: JSON) -> [String] {
        var format: [String] = []
        if let rate = device["rate"]?.intValue { format.append("\(rate) Hz") }
        if let channels = device["channels"]?.intValue { format.append("\(channels) ch") }
        var notes: [String] = []
        if device["monitor"] == true { notes.append("monitor") }
        if let codec = device["bluetoothCodec"]?.stringValue { notes.append("Bluetooth \(codec)") }
        return [device["uri"]?.stringValue ?? "", device["description"]?.stringValue ?? "", format.joined(separator: ", "), notes.joined(separator: ", ")]
    }

    /// "hci0 BlueZ 5.66 send+receive 1/3", one per adapter; or why there is no Bluetooth.
    private static func bluetooth(_ table: JSON?) -> String {
        guard let table else { return "" }
        if let speaker = table["speaker"] {
            let codec = speaker["codec"]?.stringValue.map { ", \($0)" } ?? ""
            return "speaker \(speaker["address"]?.stringValue ?? "")\(codec)"
        }
        guard table["available"] != false else { return table["code"]?.stringValue ?? "no" }
        let adapters = table["adapters"]?.arrayValue ?? []
        guard !adapters.isEmpty else { return "no adapter" }
        return adapters.map { adapter in
            var parts = [adapter["name"]?.stringValue ?? adapter["address"]?.stringValue ?? "adapter"]
            if let version = adapter["bluez"]?.stringValue { parts.append("BlueZ \(version)") }
            let roles = [adapter["send"] == true ? "send" : nil, adapter["receive"] == true ? "receive" : nil].compactMap { $0 }
            parts.append(roles.isEmpty ? "no audio" : roles.joined(separator: "+"))
            if adapter["powered"] == false { parts.append("off") }
            let speakers = adapter["connected"]?.arrayValue?.count ?? 0
            if let limit = adapter["limit"]?.intValue { parts.append("\(speakers)/\(limit) connected") }
            return parts.joined(separator: " ")
        }.joined(separator: "; ")
    }
}
