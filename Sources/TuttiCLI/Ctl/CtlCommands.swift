import ArgumentParser
import TuttiControl

struct CtlStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Groups, their speakers, streams, and each speaker's sync.")
    @OptionGroup var options: CtlOptions

    func run() async throws {
        try await options.run { connection, status in
            CtlOutput(text: StatusTable.render(status), json: try await connection.call("Server.GetStatus"))
        }
    }
}

struct CtlVolume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volume", abstract: "Set a speaker's volume: 0–100, or +N / -N.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String
    @Argument(help: "0–100, or +N / -N to change it.") var level: String

    func validate() throws {
        guard Int(level.hasPrefix("+") ? String(level.dropFirst()) : level) != nil else { throw ValidationError("volume '\(level)' is not a number, +N or -N") }
    }

    func run() async throws {
        try await options.run { connection, status in
            let client = try status.speaker(speaker)
            let change = Int(level.hasPrefix("+") ? String(level.dropFirst()) : level)!
            let relative = level.hasPrefix("+") || level.hasPrefix("-")
            let percent = max(0, min(100, relative ? client.volume + change : change))
            let result = try await connection.call("Client.SetVolume", ["id": .string(client.id), "volume": ["percent": .int(percent)]])
            return CtlOutput(text: "\(client.displayName): volume \(percent)", json: result)
        }
    }
}

/// Mute or unmute a speaker, or (when the name is a group's) a group.
struct CtlMute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mute", abstract: "Mute a speaker or a group.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "A speaker or a group.") var target: String

    func run() async throws { try await options.run { try await Self.setMute(true, target, $0, $1) } }

    static func setMute(_ muted: Bool, _ target: String, _ connection: ControlConnection, _ status: StatusSnapshot) async throws -> CtlOutput {
        let word = muted ? "muted" : "unmuted"
        if let client = try? status.speaker(target) {
            let result = try await connection.call("Client.SetVolume", ["id": .string(client.id), "volume": ["muted": .bool(muted)]])
            return CtlOutput(text: "\(client.displayName): \(word)", json: result)
        }
        let group = try status.group(target)
        let result = try await connection.call("Group.SetMute", ["id": .string(group.id), "mute": .bool(muted)])
        return CtlOutput(text: "group \(group.displayName): \(word)", json: result)
    }
}

struct CtlUnmute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unmute", abstract: "Unmute a speaker or a group.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "A speaker or a group.") var target: String

    func run() async throws { try await options.run { try await CtlMute.setMute(false, target, $0, $1) } }
}

struct CtlLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency", abstract: "Set a speaker's latency in ms (positive plays earlier, for slow outputs such as Bluetooth).")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String
    @Argument(help: "Milliseconds, -10000…10000 (to the µs: 180.25).") var milliseconds: Double

    func validate() throws {
        // The range is the server's to check (its error says it).
        guard milliseconds.isFinite else { throw ValidationError("the latency must be a number of ms") }
    }

    func run() async throws {
        // Clamped only so that the conversion cannot trap; the server refuses what is out of range.
        let microseconds = Int(max(-1e12, min(1e12, milliseconds * 1000)).rounded())
        try await options.call("Client.SetLatency", onSpeaker: speaker, ["latency": SnapcastJSON.latency(microseconds)]) {
            "\($0.displayName): latency \(StatusTable.milliseconds(Double(microseconds) / 1000))"
        }
    }
}

struct CtlTrim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trim", abstract: "Set a Tutti speaker's level trim in dB (0 or less: how much quieter than its volume says).")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String
    @Argument(help: "Decibels, -40…0.") var decibels: Double

    func validate() throws {
        guard decibels.isFinite else { throw ValidationError("the trim must be a number of dB") }
    }

    func run() async throws {
        try await options.call("Client.SetTrim", onSpeaker: speaker, ["trimDb": .double(decibels)]) {
            "\($0.displayName): trim \(String(format: "%.2f", decibels)) dB"
        }
    }
}

struct CtlName: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "name", abstract: "Rename a speaker.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String
    @Argument(help: "Its new name.") var name: String

    func run() async throws {
        try await options.call("Client.SetName", onSpeaker: speaker, ["name": .string(name)]) { "\($0.id) is now named \(name)" }
    }
}

struct CtlChannel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "channel", abstract: "Choose what a speaker plays: stereo, left, right or mono.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String
    @Argument(help: "stereo, left, right or mono.") var channel: String

    func validate() throws {
        guard AudioChannel(rawValue: channel.lowercased()) != nil else { throw ValidationError("channel '\(channel)' is not stereo, left, right or mono") }
    }

    func run() async throws {
        try await options.call("Client.SetChannel", onSpeaker: speaker, ["channel": .string(channel.lowercased())]) { "\($0.displayName): plays \(channel.lowercased())" }
    }
}

struct CtlForget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forget", abstract: "Forget a disconnected speaker (its settings are deleted).")
    @OptionGroup var options: CtlOptions
    @Argument(help: "The speaker.") var speaker: String

    func run() async throws {
        try await options.call("Server.DeleteClient", onSpeaker: speaker) { "forgot \($0.displayName)" }
    }
}

struct CtlParty: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "party", abstract: "Party mode: on puts every speaker in one Everywhere group; off restores the groups as they were.")
    @OptionGroup var options: CtlOptions
    @Argument(help: "on or off.") var state: String
    @Option(name: .long, help: "The stream to play everywhere (default: the busiest group's).") var stream: String?

    func validate() throws {
        guard ["on", "off"].contains(state.lowercased()) else { throw ValidationError("say 'on' or 'off', not '\(state)'") }
    }

    func run() async throws {
        try await options.run { connection, status in
            var params: [String: JSON] = ["on": .bool(state.lowercased() == "on")]
            if let stream { params["stream_id"] = .string(try status.stream(stream).id) }
            let result = try await connection.call("Server.SetPartyMode", .object(params))
            return CtlOutput(text: "party mode \(state.lowercased())", json: result)
        }
    }
}
