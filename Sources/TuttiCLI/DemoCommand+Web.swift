import Foundation
import Logging
import TuttiControl
import TuttiServer
import TuttiSources

extension DemoCommand {
    /// The rooms of `tutti demo --web`: ID, name, and the delay of the output path that its
    /// latency setting makes up for (the "Bluetooth" speaker's; the demo's outputs are
    /// simulated, so the setting is what there is to see and change).
    static let webRooms: [(id: String, name: String, delayMs: Int)] = [
        ("kitchen", "Kitchen", 0), ("living-room", "Living Room", 0), ("patio", "Patio", 0), ("jbl-flip", "JBL Flip (Bluetooth)", 250),
    ]

    /// Runs a server with simulated rooms and the web page until SIGINT or SIGTERM.
    func runWeb(logger: Logger) async throws {
        var configuration = ServerConfiguration(
            sources: [try SourceURI(parsing: "tone://?name=music&kind=music"), try SourceURI(parsing: "tone://?name=radio&kind=tone&freq=330&amplitude=0.2")],
            bufferMs: bufferMs, bindAddress: bind, streamPort: 0, controlPort: controlPort, httpPort: httpPort)
        configuration.speakers = [:]
        // From another device (a phone) the page asks for this; loopback needs none.
        let token = "demo-" + (0..<4).map { _ in String(format: "%04x", UInt16.random(in: 0...UInt16.max)) }.joined(separator: "-")
        configuration.token = token
        let fleet = SpeakerFleet()
        let host = bind == "0.0.0.0" || bind == "::" ? "THIS-HOST" : bind
        let server = TuttiServer(configuration: configuration, logger: logger) { ports in
            for (index, room) in Self.webRooms.enumerated() {
                let clock = Self.clocks[index]
                do {
                    try fleet.startTuttiSpeaker(
                        name: room.id, port: ports.stream, instance: 1, offsetSeconds: clock.offset, driftPPM: clock.ppm,
                        output: "null", extraArguments: ["--name", room.name])
                } catch {
                    say("could not start the speaker \(room.name): \(error)")
                }
            }
            say("""
                Tutti demo: a server with the streams "music" and "radio" and \(Self.webRooms.count) simulated rooms \
                (\(Self.webRooms.map { $0.name }.joined(separator: ", "))).

                  Open http://\(host):\(ports.http)/ in a browser\(host == "127.0.0.1" ? "" : " (from another device, give it the token \(token))").
                  Or: tutti ctl --server 127.0.0.1:\(ports.control) status

                Ctrl-C stops it.
                """)
            Task { await Self.arrangeRooms(controlPort: ports.control) }
        }
        defer { fleet.stopAll() }
        try await ServerCommand.runUntilSignalled(server, logger: logger)
    }

    /// Once every room is connected: the kitchen and the living room as "Downstairs", and a
    /// routine to try.
    static func arrangeRooms(controlPort: Int) async {
        do {
            try await ControlConnection.with(host: "127.0.0.1", port: controlPort, token: nil) { connection in
                for _ in 0..<100 {
                    let status = StatusSnapshot(try await connection.call("Server.GetStatus"))
                    if status.groups.flatMap(\.clients).filter(\.connected).count == webRooms.count { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await connection.call("Group.Create", ["name": "Downstairs", "clients": ["kitchen", "living-room"]])
                for room in webRooms where room.delayMs != 0 {
                    _ = try await connection.call("Client.SetLatency", ["id": .string(room.id), "latency": .int(room.delayMs)])
                }
                _ = try await connection.call("Routine.Create", [
                    "name": "Good morning", "aliases": ["wake up"],
                    "actions": ["play radio in the kitchen", "volume 30 in the kitchen", "wait 2 seconds", "louder in the kitchen"],
                    "triggers": [["at": "07:00", "days": ["weekdays"]]],
                ])
            }
        } catch {
            say("could not group the demo's rooms: \(error)")
        }
    }
}
