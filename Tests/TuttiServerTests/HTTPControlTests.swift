import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TuttiControl
import TuttiTestSupport
import TuttiServer
import TuttiWire

/// The control API over HTTP (`POST /jsonrpc`) and the Prometheus metrics (`GET /metrics`).
@Suite(.serialized) struct HTTPControlTests {
    static func request(_ port: Int, _ path: String, method: String = "GET", body: String? = nil, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func postJSONRPCAndReadMetrics() async throws {
        try await withServerPorts { ports, _ in
            let speaker = try RawSpeaker(port: ports.stream)
            speaker.hello(id: "den", capabilities: ["channel", "status"])
            _ = try ControlAPIServerTests.waitForSpeakers(["den"], try RPCClient(port: ports.control))
            let (code, text) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: #"{"jsonrpc":"2.0","id":1,"method":"Client.SetLatency","params":{"id":"den","latency":75}}"#)
            #expect(code == 200)
            #expect(try JSON(parsing: text)["result"] == ["latency": 75])
            let (_, batch) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: #"[{"jsonrpc":"2.0","id":1,"method":"Server.GetRPCVersion"},{"jsonrpc":"2.0","id":2,"method":"Nope"}]"#)
            let answers = try JSON(parsing: batch).arrayValue ?? []
            #expect(answers.count == 2 && answers.last?["error"]?["code"] == -32601)
            // A run answers an HTTP request when it is done (on connections it goes on aside).
            let (_, said) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: #"{"jsonrpc":"2.0","id":3,"method":"Command.Run","params":{"text":"volume 20 on den"}}"#)
            #expect(try JSON(parsing: said)["result"]?["ok"] == true, "\(said)")
            let (badCode, bad) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: "{oops")
            #expect(badCode == 200)
            #expect(try JSON(parsing: bad)["error"]?["code"] == -32700)
            let (bigCode, big) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: String(repeating: " ", count: 70_000))
            #expect(bigCode == 413)
            #expect(try JSON(parsing: big)["error"]?["code"] == -32002)

            // A speaker's sync report shows in its Client object and as metrics.
            speaker.send(SnapFrame(message: .speakerStatus(SpeakerStatusReport(locked: true, clockErrorUs: 4.5, ratePpm: 31.25, bufferMs: 980, outputDelayMs: 12, underruns: 3))))
            let rpc = try RPCClient(port: ports.control)
            #expect(waitUntil(seconds: 3) { (try? rpc.result("Client.GetStatus", ["id": "den"]))?["client"]?["sync"]?["ratePpm"] == 31.25 })
            let (metricsCode, metrics) = try await Self.request(ports.http, "/metrics")
            #expect(metricsCode == 200)
            #expect(metrics.contains(#"tutti_speaker_clock_rate_ppm{speaker="den"} 31.25"#), "\(metrics)")
            #expect(metrics.contains(#"tutti_speaker_underruns{speaker="den"} 3"#))
        }
    }

    @Test func untrustedHTTPClientsNeedABearerToken() async throws {
        let token = "a-token-for-tests-0123456789"
        try await withServerPorts(configure: { $0.trustLoopback = false; $0.token = token }) { ports, _ in
            let body = #"{"jsonrpc":"2.0","id":1,"method":"Server.GetStatus"}"#
            let (_, refused) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: body)
            #expect(try JSON(parsing: refused)["error"]?["code"] == -32001)
            let (code, allowed) = try await Self.request(ports.http, "/jsonrpc", method: "POST", body: body, token: token)
            #expect(code == 200)
            #expect(try JSON(parsing: allowed)["result"]?["server"] != nil)
            #expect(try await Self.request(ports.http, "/metrics").0 == 401)
            #expect(try await Self.request(ports.http, "/metrics", token: token).0 == 200)
        }
    }
}
