import TuttiControl

/// The capability table: what each speaker's host can do, as its host says
/// (`Host.GetCapabilities` over the speaker connection), with what the server knows beside it.
extension ControlPlane {
    /// `Server.GetCapabilities` (every known speaker, `{"speakers": [...]}`) or
    /// `Client.GetCapabilities` (one, `{"speaker": {...}}`). Hosts are asked side by side, so
    /// one that is slow to answer delays the table by its timeout at most, never by the sum.
    ///
    /// Each entry has the speaker's `id`, `name`, `connected`, `host` and `software` as the
    /// speaker announced them, whether it plays (`playing`), its sync report (`sync`, from a
    /// speaker that sends one), and either the host's table
    /// (`capabilities`) or why there is none (`unavailable`: `{code, message}` — disconnected,
    /// a Snapcast client that does not report one, a host that failed to answer).
    func capabilities(of ids: [String], single: Bool) async throws(RPCError) -> JSON {
        let speakers = ids.compactMap { model.speaker($0) }
        let asked = await withTaskGroup(of: (String, Result<JSON, RPCError>).self) { group in
            for speaker in speakers where speaker.connected && speaker.capabilities.contains(Capability.rpc) {
                group.addTask { (speaker.id, await self.callHost(speaker.id, "Host.GetCapabilities", [:])) }
            }
            var answers: [String: Result<JSON, RPCError>] = [:]
            for await (id, answer) in group { answers[id] = answer }
            return answers
        }
        let entries = speakers.map { speaker -> JSON in
            var entry: [String: JSON] = [
                "id": .string(speaker.id), "name": .string(speaker.displayName), "connected": .bool(speaker.connected),
                "host": SnapcastJSON.host(speaker.host),
                "software": ["name": .string(speaker.software.name), "version": .string(speaker.software.version)],
                "playing": SnapcastJSON.playing(speaker, in: model),
            ]
            if speaker.connected, let sync = speaker.sync { entry["sync"] = SnapcastJSON.sync(sync) }
            func unavailable(_ code: String, _ message: String) {
                entry["unavailable"] = ["code": .string(code), "message": .string(message)]
            }
            switch asked[speaker.id] {
            case .success(let table)?:
                entry["capabilities"] = table
            case .failure(let error)?:
                unavailable("host-error", "its host did not answer: \(error.message)")
            case nil where !speaker.connected:
                unavailable("disconnected", "not connected: its host reports what it can do while it is connected")
            case nil:
                unavailable(
                    "not-reported",
                    "\(speaker.software.name) \(speaker.software.version) does not report what its host can do (a Tutti speaker does)")
            }
            return .object(entry)
        }
        if single {
            guard let entry = entries.first else { throw RPCError(.unknownSpeaker(ids.first ?? "")) }
            return ["speaker": entry]
        }
        return ["speakers": .array(entries)]
    }
}
