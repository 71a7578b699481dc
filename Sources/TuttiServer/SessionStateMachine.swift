import TuttiTiming
import TuttiWire

/// The server side of one Snapcast-protocol connection, as decisions without I/O.
///
/// States:
/// - `awaitingHello`: connected; only a Hello (or Time) makes sense. A connection that sends
///   no Hello within `helloTimeout` is closed.
/// - `streaming`: greeted; ServerSettings, CodecHeader and chunks flow (once the control plane
///   has said what the speaker plays); Time requests are answered; ClientInfo updates the
///   speaker's volume and mute; a Tutti speaker's SpeakerStatus updates its sync status.
/// - `closed`: nothing more happens.
///
/// The handler feeds events in and performs the returned action in one `switch`.
struct SessionStateMachine {
    enum State: Equatable {
        case awaitingHello(connectedAt: Nanos)
        case streaming(clientID: String)
        case closed
    }

    enum Action: Equatable {
        case none
        /// Send ServerSettings (refersTo `requestID`), the CodecHeader and the backlog; subscribe.
        case greet(Hello, requestID: UInt16)
        /// Answer a Time request: refersTo `requestID`, `latency` = server receive − client send.
        case replyTime(requestID: UInt16, latency: Nanos)
        case updateClient(ClientInfo)
        /// A Tutti speaker reported its sync status.
        case status(SpeakerStatusReport)
        /// A speaker host answered a relayed request (JSON-RPC text).
        case hostCall(String)
        /// Log and carry on.
        case ignore(reason: String)
        case close(reason: String)
    }

    static let helloTimeout: Nanos = 10 * .nanosPerSecond

    private(set) var state: State

    init(connectedAt now: Nanos) {
        state = .awaitingHello(connectedAt: now)
    }

    /// A whole frame arrived at server time `receivedAt`.
    mutating func frameReceived(_ frame: SnapFrame, receivedAt: Nanos) -> Action {
        switch (state, frame.message) {
        case (.closed, _):
            return .none
        case (.awaitingHello, .hello(let hello)):
            state = .streaming(clientID: hello.clientID)
            return .greet(hello, requestID: frame.id)
        case (.streaming, .hello):
            return .ignore(reason: "second Hello on one connection")
        case (_, .time):
            return .replyTime(requestID: frame.id, latency: receivedAt - frame.sent.nanoseconds)
        case (.streaming, .clientInfo(let info)):
            return .updateClient(info)
        case (.streaming, .speakerStatus(let report)):
            return .status(report)
        case (.streaming, .hostCall(let call)):
            return .hostCall(call.json)
        case (.awaitingHello, .clientInfo):
            state = .closed
            return .close(reason: "ClientInfo before Hello")
        case (_, let message):
            return .ignore(reason: "unexpected \(message.type) message from a speaker")
        }
    }

    /// Periodic check; closes a connection that never said Hello.
    mutating func tick(now: Nanos) -> Action {
        guard case .awaitingHello(let connectedAt) = state, now - connectedAt > Self.helloTimeout else { return .none }
        state = .closed
        return .close(reason: "no Hello within \(Self.helloTimeout / .nanosPerSecond) s")
    }

    /// The peer or the server ended the connection.
    mutating func closed() { state = .closed }
}
