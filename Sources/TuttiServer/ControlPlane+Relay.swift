import NIOCore
import TuttiControl

/// Requests the server relays to speaker hosts over their speaker connections (HostCall
/// frames): `Bluetooth.*`, answered by the host whose Bluetooth it is; and what hosts tell
/// the server by themselves (`Host.Exclusions`, `Host.Phones`).
///
/// With no `host` named, a status or scan asks every host with Bluetooth and merges the
/// answers (each item says its host); a device operation goes to the only host with
/// Bluetooth, or to the one whose status lists that device.
extension ControlPlane {
    /// How long a relayed request may take: a scan's own duration plus a margin, or a pairing's.
    static func relayTimeout(_ method: String, _ params: JSON) -> TimeAmount {
        if method == "Host.GetCapabilities" { return .seconds(5) }
        let scan = (params["seconds"]?.doubleValue ?? 8) + 10
        return .milliseconds(Int64(1000 * (method == "Bluetooth.Scan" ? scan : 90)))
    }

    func relay(_ method: String, params: JSON, host: String?) async throws(RPCError) -> JSON {
        let hosts = model.speakers.filter { $0.connected && $0.capabilities.contains(Capability.bluetooth) }
        guard !hosts.isEmpty else {
            throw .notSupported("no speaker host with Bluetooth is connected: start one with `tutti speaker --bluetooth`")
        }
        if let host {
            guard let speaker = hosts.first(where: { $0.id == host }) ?? hosts.first(where: { $0.displayName.lowercased() == host.lowercased() }) else {
                throw .invalidParams("no connected speaker host with Bluetooth called '\(host)' (there are: \(hosts.map(\.displayName).joined(separator: ", ")))")
            }
            return try tagged(await callHost(speaker.id, method, params).get(), host: speaker)
        }
        switch method {
        case "Bluetooth.GetStatus", "Bluetooth.Scan":
            return try await merged(method, params, hosts: hosts)
        case "Bluetooth.SetReceive" where hosts.count > 1:
            throw .invalidParams("several speaker hosts have Bluetooth (\(hosts.map(\.displayName).joined(separator: ", "))): name the one to receive with 'host'")
        default:
            if hosts.count == 1 { return try tagged(await callHost(hosts[0].id, method, params).get(), host: hosts[0]) }
            let device = params["device"]?.stringValue ?? ""
            for speaker in hosts {
                guard case .success(let status) = await callHost(speaker.id, "Bluetooth.GetStatus", [:]) else { continue }
                let known = status["devices"]?.arrayValue ?? []
                if known.contains(where: { $0["address"]?.stringValue?.uppercased() == device.uppercased() || $0["name"]?.stringValue?.lowercased() == device.lowercased() }) {
                    return try tagged(await callHost(speaker.id, method, params).get(), host: speaker)
                }
            }
            throw .invalidParams("no speaker host knows a Bluetooth device '\(device)': scan first, or name the host ('host')")
        }
    }

    /// Asks every host and merges adapters and devices; a host that fails is listed with its error.
    private func merged(_ method: String, _ params: JSON, hosts: [Speaker]) async throws(RPCError) -> JSON {
        var adapters: [JSON] = [], devices: [JSON] = [], failures: [JSON] = []
        var errors: [RPCError] = []
        for speaker in hosts {
            switch await callHost(speaker.id, method, params) {
            case .success(let answer):
                let answer = tagged(answer, host: speaker)
                adapters += answer["adapters"]?.arrayValue ?? []
                devices += answer["devices"]?.arrayValue ?? []
            case .failure(let error):
                errors.append(error)
                failures.append(["host": .string(speaker.id), "hostName": .string(speaker.displayName), "error": error.json])
            }
        }
        // The only host failed: its error is the answer.
        if hosts.count == 1, let error = errors.first { throw error }
        var result: [String: JSON] = ["devices": .array(devices)]
        if method == "Bluetooth.GetStatus" { result["adapters"] = .array(adapters) }
        if !failures.isEmpty { result["failures"] = .array(failures) }
        return .object(result)
    }

    /// Adds `host`/`hostName` to each adapter and device of an answer, so a merged list says where each is.
    private func tagged(_ answer: JSON, host: Speaker) -> JSON {
        guard var object = answer.objectValue else { return answer }
        func tag(_ item: JSON) -> JSON {
            guard var fields = item.objectValue else { return item }
            fields["host"] = .string(host.id)
            fields["hostName"] = .string(host.displayName)
            return .object(fields)
        }
        for key in ["adapters", "devices"] { if let items = object[key]?.arrayValue { object[key] = .array(items.map(tag)) } }
        if let device = object["device"] { object["device"] = tag(device) }
        return .object(object)
    }

    /// Sends one request to a speaker's host and waits for its answer (or the timeout, or the
    /// speaker going away).
    func callHost(_ speakerID: String, _ method: String, _ params: JSON) async -> Result<JSON, RPCError> {
        let id = nextHostCallID
        nextHostCallID += 1
        let request: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
        let timeout = Self.relayTimeout(method, params)
        return await withCheckedContinuation { continuation in
            hostCalls[id] = (speakerID, continuation)
            let core = self.core
            let text = request.text
            core.eventLoop.execute {
                let sent = core.assumeIsolated { $0.sendHostCall(to: speakerID, text) }
                if !sent { self.eventLoop.execute { self.assumeIsolated { $0.finishHostCall(id, .failure(.notSupported("speaker '\(speakerID)' is not connected or relays nothing"))) } } }
            }
            eventLoop.scheduleTask(in: timeout) {
                self.assumeIsolated { $0.finishHostCall(id, .failure(.internalError("speaker '\(speakerID)' did not answer \(method) in time"))) }
            }
        }
    }

    private func finishHostCall(_ id: Int, _ result: Result<JSON, RPCError>) {
        hostCalls.removeValue(forKey: id)?.answer.resume(returning: result)
    }

    /// A host's response, matched to its request by ID; or its notification: `Host.Exclusions`
    /// `{"speakers": [{"id", "name", "code", "message"}]}`, the full list of its speakers that do
    /// not play and why. Anything else is logged and dropped.
    func hostAnswered(_ speakerID: String, _ text: String) {
        if let message = try? JSON(parsing: text), message["id"] == nil, message["method"]?.stringValue == "Host.Phones" {
            Task { await self.hostReportedPhones(speakerID, message["params"]) }
            return
        }
        if let message = try? JSON(parsing: text), message["id"] == nil, message["method"]?.stringValue == "Host.Exclusions" {
            let excluded = (message["params"]?["speakers"]?.arrayValue ?? []).compactMap { item -> ExcludedSpeaker? in
                guard let id = item["id"]?.stringValue, !id.isEmpty, id != speakerID else { return nil }
                return ExcludedSpeaker(
                    id: id, name: String((item["name"]?.stringValue ?? id).prefix(200)), code: String((item["code"]?.stringValue ?? "excluded").prefix(64)),
                    message: String((item["message"]?.stringValue ?? "").prefix(500)))
            }
            do {
                try apply(.hostReportedExclusions(host: speakerID, Array(excluded.prefix(64))), origin: nil, refuseUnstored: false)
            } catch {
                logger.error("speaker host '\(speakerID)': its exclusions: \(error)")
            }
            return
        }
        guard let response = try? JSON(parsing: text), let id = response["id"]?.intValue, hostCalls[id]?.speaker == speakerID else {
            logger.warning("speaker '\(speakerID)' sent a host response that answers nothing: \(text.prefix(200))")
            return
        }
        if let result = response["result"] {
            finishHostCall(id, .success(result))
        } else if let error = response["error"], let code = error["code"]?.intValue {
            finishHostCall(id, .failure(RPCError(code: code, message: error["message"]?.stringValue ?? "error", data: error["data"])))
        } else {
            finishHostCall(id, .failure(.internalError("speaker '\(speakerID)' answered with neither result nor error")))
        }
    }

    /// A speaker disconnected: its unanswered requests fail now rather than at their timeout.
    func hostGone(_ speakerID: String) {
        // What it reported it can no longer vouch for: its speakers show as offline.
        if model.speakers.contains(where: { $0.exclusion?.host == speakerID }) {
            _ = try? apply(.hostReportedExclusions(host: speakerID, []), origin: nil, refuseUnstored: false)
        }
        for (id, call) in hostCalls where call.speaker == speakerID {
            finishHostCall(id, .failure(.internalError("speaker '\(speakerID)' disconnected before answering")))
        }
    }
}
