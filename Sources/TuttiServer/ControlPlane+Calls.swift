import TuttiControl

extension ControlPlane {
    /// Handles one JSON-RPC message (a request or a batch) from a client and sends the
    /// response with `respond` — on this actor, so that it goes out before any notification
    /// that follows the change. Nothing is sent for a message of notifications only.
    ///
    /// A client that is not trusted and has not authenticated gets -32001 for everything but
    /// Server.Authenticate. Requests of a batch run in order; each is stored before the next.
    /// A client hears notifications only after its first response (Snapcast's Python client
    /// must see Server.GetStatus's answer before any notification naming a speaker).
    ///
    /// On a connection (`runsAside`), a run — Routine.Run, Command.Run — answers when its last
    /// action is done, which may be minutes away with waits, so it goes on beside the
    /// connection's later requests; an HTTP request waits for it.
    func handle(
        _ bytes: [UInt8], from client: any ControlClient, runsAside: Bool = true, respond: @escaping @Sendable (String) -> Void
    ) async {
        if runsAside, case .single(let request) = JSONRPC.parse(bytes), ["Routine.Run", "Command.Run", "Server.GetCapabilities", "Client.GetCapabilities"].contains(request.method) || request.method.hasPrefix("Bluetooth.") {
            Task {
                if let response = await self.answer(request, from: client) {
                    respond(response.text)
                    self.markAnswered(client)
                }
            }
            return
        }
        if let response = await response(to: bytes, from: client) {
            respond(response)
            markAnswered(client)
        }
    }

    private func response(to bytes: [UInt8], from client: any ControlClient) async -> String? {
        switch JSONRPC.parse(bytes) {
        case .invalid(let failure):
            return JSONRPC.response(id: failure.id, error: failure.error).text
        case .single(let request):
            return await answer(request, from: client)?.text
        case .batch(let elements):
            var responses: [JSON] = []
            for element in elements {
                switch element {
                case .success(let request):
                    if let response = await answer(request, from: client) { responses.append(response) }
                case .failure(let failure):
                    responses.append(JSONRPC.response(id: failure.id, error: failure.error))
                }
            }
            return responses.isEmpty ? nil : JSON.array(responses).text
        }
    }

    func answer(_ request: JSONRPC.Request, from client: any ControlClient) async -> JSON? {
        let result: Result<JSON, RPCError>
        if isAuthenticated(client) || request.method == "Server.Authenticate" {
            result = await run(request, from: client)
        } else {
            result = .failure(.unauthorized)
        }
        guard let id = request.id else { return nil }
        switch result {
        case .success(let value): return JSONRPC.response(id: id, result: value)
        case .failure(let error): return JSONRPC.response(id: id, error: error)
        }
    }

    private func run(_ request: JSONRPC.Request, from client: any ControlClient) async -> Result<JSON, RPCError> {
        do throws(RPCError) {
            switch try api.plan(request, model: model) {
            case .answer(let result):
                return .success(result)
            case .apply(let command, let render):
                do {
                    let outcome = try apply(command, origin: client)
                    return .success(render(model, outcome.result))
                } catch {
                    throw RPCError(error)
                }
            case .addStream(let uri):
                let stream = try await streamHost.open(uri, Set(model.streams.map(\.id)))
                do {
                    try apply(.addStream(stream), origin: client)
                } catch {
                    streamHost.close(stream.id)
                    throw RPCError(error)
                }
                return .success(["id": .string(stream.id)])
            case .authenticate(let token):
                guard access.accepts(token) else {
                    return .failure(RPCError(code: RPCError.unauthorized.code, message: "Unauthorized", data: "wrong token"))
                }
                authenticate(client)
                return .success(["authenticated": true])
            case .run(let actions, let label, let routine, let dryRun):
                let report =
                    dryRun
                    ? await RoutineRunner.dryRun(on: model).run(actions, routine: routine)
                    : await run(actions, label: label, routine: routine, trigger: "request", origin: client)
                if let error = report.rpcError(label: label) { throw error }
                var result = report.json.objectValue ?? [:]
                if dryRun {
                    result["dryRun"] = true
                    result["actions"] = .array(actions.map { .string($0.text) })
                }
                return .success(.object(result))
            case .subscribe(let sync):
                subscribe(client, sync: sync)
                return .success(["sync": .bool(sync)])
            case .relay(let method, let params, let host):
                return .success(try await relay(method, params: params, host: host))
            case .capabilities(let speakers, let single):
                return .success(try await capabilities(of: speakers, single: single))
            case .calibration(let method, let params):
                return .success(try await calibration(method, params))
            }
        } catch {
            return .failure(error)
        }
    }
}
