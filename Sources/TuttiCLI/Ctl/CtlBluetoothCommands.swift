import ArgumentParser
import Foundation
import TuttiControl

/// `tutti ctl bt …`: the Bluetooth speakers of the speaker hosts started with `--bluetooth`.
struct CtlBluetooth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bt", abstract: "Bluetooth speakers: scan, pair, connect, disconnect, forget; receive mode for phones.",
        discussion: """
            Speakers are named by address (AA:BB:CC:DD:EE:FF) or by name. With several speaker hosts \
            with Bluetooth, --host picks one (by default the one that knows the speaker). A speaker that \
            cannot be reached, refuses pairing or would exceed its adapter's limit exits with code 1 and \
            says why.
            """,
        subcommands: [Status.self, Scan.self, Pair.self, Connect.self, Disconnect.self, Forget.self, ForgetAll.self, Receive.self],
        defaultSubcommand: Status.self)

    /// The options every `bt` subcommand takes.
    struct Target: ParsableArguments {
        @Option(name: .long, help: "The speaker host whose Bluetooth to use (its speaker name or ID).") var host: String?
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adapters and Bluetooth speakers, paired or seen.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.GetStatus", host: target.host) { CtlBluetooth.table($0) }
        }
    }

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Look for speakers in pairing mode.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Option(name: .long, help: "How long to look (0.5…60 s).") var seconds: Double = 8

        func validate() throws {
            guard (0.5...60).contains(seconds) else { throw ValidationError("--seconds must be 0.5…60") }
        }

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.Scan", ["seconds": .double(seconds)], host: target.host, timeout: seconds + 15) { result in
                let devices = result["devices"]?.arrayValue ?? []
                return devices.isEmpty ? "no speakers found: is yours in pairing mode?" : CtlBluetooth.deviceTable(devices)
            }
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pair with a speaker (in pairing mode) and connect it.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Argument(help: "The speaker's address or name.") var device: String

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.Pair", ["device": .string(device)], host: target.host) { result in
                "\(CtlBluetooth.name(result["device"])): paired and connected"
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connect a paired speaker.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Argument(help: "The speaker's address or name.") var device: String

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.Connect", ["device": .string(device)], host: target.host) { result in
                "\(CtlBluetooth.name(result["device"])): connected"
            }
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disconnect a speaker (it stays paired, and is not reconnected until asked).")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Argument(help: "The speaker's address or name.") var device: String

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.Disconnect", ["device": .string(device)], host: target.host) { result in
                "\(CtlBluetooth.name(result["device"])): disconnected"
            }
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a speaker: disconnect it and delete its pairing.")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Argument(help: "The speaker's address or name.") var device: String

        func run() async throws {
            try await CtlBluetooth.call(options, "Bluetooth.Forget", ["device": .string(device)], host: target.host) { _ in "\(device): forgotten" }
        }
    }

    struct ForgetAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "forget-all", abstract: "Forget every paired speaker (asks first, unless --yes).")
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Do not ask.") var yes = false

        func run() async throws {
            if !yes {
                guard isatty(STDIN_FILENO) != 0 else {
                    throw fail("forget-all deletes every Bluetooth pairing: add --yes to confirm", code: 64)
                }
                print("Forget every paired Bluetooth speaker\(target.host.map { " of \($0)" } ?? "")? They will need pairing again. [y/N] ", terminator: "")
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    print("nothing forgotten")
                    return
                }
            }
            try await CtlBluetooth.call(options, "Bluetooth.ForgetAll", ["confirm": true], host: target.host) { result in
                let forgotten = result["forgotten"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return forgotten.isEmpty ? "no paired speakers" : "forgotten: " + forgotten.joined(separator: ", ")
            }
        }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive mode: phones can find the box, pair and play to it; each phone becomes a stream any group can play.",
            discussion: """
                on makes the adapters that can take a phone's audio (the A2DP sink role) discoverable and \
                lets phones pair without a prompt; off stops it (phones already paired stay paired). A \
                connected phone's audio is the stream "NAME (Bluetooth)". An adapter that cannot receive is \
                refused, saying its mode and how to change it.
                """)
        @OptionGroup var options: CtlOptions
        @OptionGroup var target: Target
        @Option(name: .long, help: "Only this adapter (hci0, …).") var adapter: String?
        @Argument(help: "on or off.") var state: String

        func validate() throws {
            guard ["on", "off"].contains(state.lowercased()) else { throw ValidationError("say on or off, not '\(state)'") }
        }

        func run() async throws {
            var params: [String: JSON] = ["on": .bool(state.lowercased() == "on")]
            if let adapter { params["adapter"] = .string(adapter) }
            try await CtlBluetooth.call(options, "Bluetooth.SetReceive", params, host: target.host) { result in
                let adapters = result["adapters"]?.arrayValue ?? []
                let receiving = adapters.filter { $0["receiving"] == true }.compactMap { $0["name"]?.stringValue }
                return receiving.isEmpty
                    ? "receive mode off: phones cannot find the box"
                    : "receive mode on (\(receiving.joined(separator: ", "))): phones can pair with the box and play to it"
            }
        }
    }

    // MARK: Shared

    /// Calls a Bluetooth method and prints `text(result)`; a Bluetooth failure is said in its
    /// own words with exit code 1.
    static func call(
        _ options: CtlOptions, _ method: String, _ params: [String: JSON] = [:], host: String?, timeout seconds: Double = 120,
        text: @escaping (JSON) -> String
    ) async throws {
        var params = params
        if let host { params["host"] = .string(host) }
        try await options.run { connection, _ in
            do {
                let result = try await connection.call(method, .object(params), timeout: .milliseconds(Int(seconds * 1000)))
                return CtlOutput(text: text(result), json: result)
            } catch CtlError.rpc(let error) where error.code == -32007 {
                throw CtlError.unreachable(error.data?["message"]?.stringValue ?? error.message)
            } catch CtlError.rpc(let error) where error.code == -32005 {
                throw CtlError.unreachable(error.data?.stringValue ?? error.message)
            }
        }
    }

    static func name(_ device: JSON?) -> String {
        device?["name"]?.stringValue ?? device?["address"]?.stringValue ?? "the speaker"
    }

    static func table(_ status: JSON) -> String {
        let adapters = status["adapters"]?.arrayValue ?? []
        var lines = adapters.isEmpty ? ["no Bluetooth adapters"] : StatusTable.table(
            [["HOST", "ADAPTER", "STATE", "SPEAKERS", "RECEIVE"]]
                + adapters.map { adapter in
                    let connected = adapter["connected"]?.arrayValue?.count ?? 0
                    return [
                        adapter["hostName"]?.stringValue ?? "", adapter["name"]?.stringValue ?? "",
                        adapter["powered"] == true ? "on" : "off", "\(connected) of \(adapter["limit"]?.intValue ?? 0)",
                        adapter["receiving"] == true ? "on (phones can pair)" : adapter["receive"] == true ? "off" : "cannot",
                    ]
                })
        let devices = status["devices"]?.arrayValue ?? []
        lines.append("")
        lines.append(devices.isEmpty ? "no Bluetooth speakers: `tutti ctl bt scan`, then `tutti ctl bt pair NAME`" : deviceTable(devices))
        for failure in status["failures"]?.arrayValue ?? [] {
            lines.append("\(failure["hostName"]?.stringValue ?? "?"): \(failure["error"]?["data"]?["message"]?.stringValue ?? failure["error"]?["message"]?.stringValue ?? "failed")")
        }
        return lines.joined(separator: "\n")
    }

    static func deviceTable(_ devices: [JSON]) -> String {
        StatusTable.table(
            [["SPEAKER", "ADDRESS", "STATE", "CODEC", "REPORTED DELAY", "HOST"]]
                + devices.map { device in
                    var state = device["connected"] == true ? "connected" : device["paired"] == true ? "paired" : "seen"
                    if device["phone"] == true { state += ", phone" }
                    let signal = device["rssi"]?.intValue.map { " (\($0) dBm)" } ?? ""
                    return [
                        device["name"]?.stringValue ?? "", device["address"]?.stringValue ?? "", state + signal,
                        device["codec"]?.stringValue ?? "—", device["reportedDelayMs"]?.doubleValue.map { String(format: "%.1f ms", $0) } ?? "—",
                        [device["hostName"]?.stringValue, device["adapter"]?.stringValue].compactMap { $0 }.joined(separator: " / "),
                    ]
                }
        ).joined(separator: "\n")
    }
}
