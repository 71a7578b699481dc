import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TuttiControl

/// The control API over HTTP and WebSocket (Snapcast's port 1780), with Hummingbird:
/// `POST /jsonrpc` (one message per request), WebSocket `/jsonrpc` (requests and
/// notifications, like the TCP port), and `GET /metrics` (Prometheus).
///
/// Trusted addresses need nothing; others send `Authorization: Bearer TOKEN` (or call
/// Server.Authenticate first on a WebSocket, which browsers cannot give headers).
struct HTTPControlServer: Sendable {
    let control: ControlPlane
    let metrics: ServerMetrics
    let logger: Logger

    /// Serves until graceful shutdown; `onRunning` gets the bound port.
    func run(group: any EventLoopGroup, host: String, port: Int, onRunning: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(
            router: httpRouter(),
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter(),
                configuration: .init(
                    http1: .init(idleTimeout: .seconds(Int64(ControlLimits.firstMessageTimeout.nanoseconds / 1_000_000_000))),
                    ws: .init(maxFrameSize: ControlLimits.maxMessageBytes))),
            configuration: .init(address: .hostname(host, port: port), serverName: "Tutti"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        try await app.run()
    }

    private func httpRouter() -> Router<ControlRequestContext> {
        let router = Router(context: ControlRequestContext.self)
        router.post("/jsonrpc") { request, context -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: ControlLimits.maxMessageBytes)
            } catch {
                return Self.json(JSONRPC.response(id: .null, error: .tooLarge(limit: ControlLimits.maxMessageBytes)).text, status: .contentTooLarge)
            }
            let client = OneShotClient()
            await control.register(client, trusted: trusted(request, context))
            let response = ResponseBox()
            await control.handle(Array(body.readableBytesView), from: client, runsAside: false) { response.set($0) }
            await control.unregister(client)
            guard let text = response.value else { return Response(status: .noContent) }
            return Self.json(text, status: .ok)
        }
        for file in WebPage.files {
            router.get(RouterPath(stringLiteral: file.path)) { _, _ -> Response in file.response }
        }
        router.get("/") { _, _ -> Response in WebPage.files[0].response }
        router.get("/metrics") { request, context -> Response in
            guard trusted(request, context) else { throw HTTPError(.unauthorized) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return router
    }

    private func webSocketRouter() -> Router<ControlRequestContext> {
        let router = Router(context: ControlRequestContext.self)
        router.ws("/jsonrpc") { inbound, outbound, context in
            let client = WebSocketClient(logger: logger)
            await control.register(client, trusted: trusted(context.request, context.requestContext))
            defer { Task { await control.unregister(client) } }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await text in client.outgoing { try await outbound.write(.text(text)) }
                    try await outbound.close(.policyViolation, reason: client.closeReason)
                }
                for try await message in inbound.messages(maxSize: ControlLimits.maxMessageBytes) {
                    guard case .text(let text) = message else { continue }
                    await control.handle(Array(text.utf8), from: client) { client.send($0) }
                }
                client.finish()
                tasks.cancelAll()
            }
        }
        return router
    }

    /// A trusted peer, or one that sent the token as a bearer credential.
    private func trusted(_ request: Request, _ context: ControlRequestContext) -> Bool {
        if control.access.isTrusted(context.remoteAddress) { return true }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return control.access.accepts(String(header.dropFirst("Bearer ".count)))
    }

    private static func json(_ text: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Hummingbird's request context, with the peer's address (for the trusted-network check).
struct ControlRequestContext: RequestContext, RemoteAddressRequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    let webSocket: WebSocketHandlerReference<ControlRequestContext>

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        webSocket = .init()
    }
}

/// An HTTP POST's client: it lives for one request and hears no notifications.
final class OneShotClient: ControlClient {
    func send(_ text: String) {}
    func disconnect(reason: String) {}
}

/// Holds the response the control plane hands back for one HTTP request.
final class ResponseBox: @unchecked Sendable {
    private let lock = NIOLockedValueBox<String?>(nil)
    func set(_ text: String) { lock.withLockedValue { $0 = text } }
    var value: String? { lock.withLockedValue { $0 } }
}

/// A WebSocket client: notifications and responses queue for its writer task; a client that
/// lets ``maxQueued`` messages pile up is disconnected rather than buffered without bound.
final class WebSocketClient: ControlClient {
    static let maxQueued = 1024
    let outgoing: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let reason = NIOLockedValueBox("")
    private let logger: Logger

    init(logger: Logger) {
        (outgoing, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(Self.maxQueued))
        self.logger = logger
    }

    var closeReason: String { reason.withLockedValue { $0 } }

    func send(_ text: String) {
        if case .dropped = continuation.yield(text) {
            disconnect(reason: "more than \(Self.maxQueued) messages unread")
        }
    }

    func disconnect(reason text: String) {
        logger.warning("disconnecting WebSocket control client: \(text)")
        reason.withLockedValue { $0 = text }
        continuation.finish()
    }

    func finish() { continuation.finish() }
}
