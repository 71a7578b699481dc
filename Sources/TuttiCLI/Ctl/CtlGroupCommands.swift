import ArgumentParser
import TuttiControl

struct CtlGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Create, change and dissolve groups.",
        subcommands: [Create.self, Add.self, Remove.self, Rename.self, Stream.self, Mute.self, Unmute.self, Volume.self, Dissolve.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new group of these speakers (taken from their groups).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group's name.") var name: String
        @Argument(help: "Its speakers.") var speakers: [String]
        @Option(name: .long, help: "The stream it plays (default: the first speaker's group's).") var stream: String?

        func run() async throws {
            try await options.run { connection, status in
                var params: [String: JSON] = ["name": .string(name), "clients": .array(try speakers.map { .string(try status.speaker($0).id) })]
                if let stream { params["stream_id"] = .string(try status.stream(stream).id) }
                let result = try await connection.call("Group.Create", .object(params))
                return CtlOutput(text: "group \(name) created", json: result)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move speakers into a group.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String
        @Argument(help: "The speakers to move in.") var speakers: [String]

        func run() async throws {
            try await options.run { connection, status in
                let target = try status.group(group)
                let added = try speakers.map { try status.speaker($0).id }
                let members = target.clients.map(\.id) + added.filter { id in !target.clients.contains { $0.id == id } }
                let result = try await connection.call("Group.SetClients", ["id": .string(target.id), "clients": .array(members.map(JSON.string))])
                return CtlOutput(text: "group \(target.displayName): \(members.count) speaker(s)", json: result)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take speakers out of their group (each gets a group of its own).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The speakers.") var speakers: [String]

        func run() async throws {
            try await options.run { connection, status in
                var result: JSON = .null
                for name in speakers {
                    let client = try status.speaker(name)
                    guard let group = status.group(of: client.id) else { continue }
                    let members = group.clients.map(\.id).filter { $0 != client.id }
                    result = try await connection.call("Group.SetClients", ["id": .string(group.id), "clients": .array(members.map(JSON.string))])
                }
                return CtlOutput(text: "\(speakers.joined(separator: ", ")): in a group of their own", json: result)
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a group.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String
        @Argument(help: "Its new name.") var name: String

        func run() async throws {
            try await options.call("Group.SetName", onGroup: group, ["name": .string(name)]) { "group \($0.displayName) is now named \(name)" }
        }
    }

    struct Stream: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Choose the stream a group plays.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String
        @Argument(help: "The stream.") var stream: String

        func run() async throws {
            try await options.run { connection, status in
                let target = try status.group(group)
                let chosen = try status.stream(stream)
                let result = try await connection.call("Group.SetStream", ["id": .string(target.id), "stream_id": .string(chosen.id)])
                return CtlOutput(text: "group \(target.displayName) plays \(chosen.id)", json: result)
            }
        }
    }

    struct Mute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mute a group.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String

        func run() async throws {
            try await options.call("Group.SetMute", onGroup: group, ["mute": true]) { "group \($0.displayName): muted" }
        }
    }

    struct Unmute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unmute a group.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String

        func run() async throws {
            try await options.call("Group.SetMute", onGroup: group, ["mute": false]) { "group \($0.displayName): unmuted" }
        }
    }

    struct Volume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a group's volume (the members' mean; their ratios are kept).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String
        @Argument(help: "0–100.") var percent: Int

        func run() async throws {
            try await options.call("Group.SetVolume", onGroup: group, ["percent": .int(percent)]) { "group \($0.displayName): volume \(percent)" }
        }
    }

    struct Dissolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Split a group: every speaker (stereo pairs together) in a group of its own.")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The group (or one of its speakers).") var group: String

        func run() async throws {
            try await options.call("Group.Dissolve", onGroup: group) { "group \($0.displayName) dissolved" }
        }
    }
}

struct CtlPair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair", abstract: "Stereo pairs: two speakers as one, left and right.", subcommands: [Create.self, Delete.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pair two speakers (the right one joins the left one's group).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The left speaker.") var left: String
        @Argument(help: "The right speaker.") var right: String
        @Option(name: .long, help: "The pair's name.") var name: String?

        func run() async throws {
            try await options.run { connection, status in
                var params: [String: JSON] = ["left": .string(try status.speaker(left).id), "right": .string(try status.speaker(right).id)]
                if let name { params["name"] = .string(name) }
                let result = try await connection.call("Pair.Create", .object(params))
                return CtlOutput(text: "stereo pair \(result["pair"]?["name"]?.stringValue ?? "") created", json: result)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Split a stereo pair (both play stereo again, still grouped).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The pair (or one of its speakers).") var pair: String

        func run() async throws {
            try await options.run { connection, status in
                let target = try status.pair(pair)
                let result = try await connection.call("Pair.Delete", ["id": .string(target.id)])
                return CtlOutput(text: "stereo pair \(target.name) split", json: result)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The stereo pairs.")
        @OptionGroup var options: CtlOptions

        func run() async throws {
            try await options.run { connection, status in
                let name = { (id: String) in status.clients.first { $0.id == id }?.displayName ?? id }
                let lines = status.pairs.map { "\($0.name): left \(name($0.left)), right \(name($0.right))" }
                let json = try await connection.call("Server.GetStatus")["server"]?["pairs"] ?? []
                return CtlOutput(text: lines.isEmpty ? "no stereo pairs" : lines.joined(separator: "\n"), json: json)
            }
        }
    }
}

struct CtlStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream", abstract: "List, add and remove streams.", subcommands: [List.self, Add.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The streams and whether they play.")
        @OptionGroup var options: CtlOptions

        func run() async throws {
            try await options.run { connection, status in
                let lines = status.streams.map { "\($0.id)  \($0.status)  \($0.uri)" }
                let json = try await connection.call("Server.GetStatus")["server"]?["streams"] ?? []
                return CtlOutput(text: lines.joined(separator: "\n"), json: json)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a stream: pipe://, tcp://, tone://, or a file in the server's media directories (never process://).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The stream's URI, e.g. tcp://0.0.0.0:4953?name=radio&mode=server.") var uri: String

        func run() async throws {
            try await options.run { connection, _ in
                let result = try await connection.call("Stream.AddStream", ["streamUri": .string(uri)])
                return CtlOutput(text: "stream \(result["id"]?.stringValue ?? "") added", json: result)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a stream added through the API (its groups play the default stream).")
        @OptionGroup var options: CtlOptions
        @Argument(help: "The stream.") var stream: String

        func run() async throws {
            try await options.run { connection, status in
                let target = try status.stream(stream)
                let result = try await connection.call("Stream.RemoveStream", ["id": .string(target.id)])
                return CtlOutput(text: "stream \(target.id) removed", json: result)
            }
        }
    }
}
