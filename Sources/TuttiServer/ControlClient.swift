/// A connected control client (JSON-RPC over TCP, HTTP or WebSocket), as the control plane
/// sees it: something it can send notifications to. Transports implement it.
protocol ControlClient: AnyObject, Sendable {
    /// Sends one JSON-RPC message (a notification). Must not block: a transport queues it,
    /// and drops a client whose queue grows past its limit (a slow client never stalls the rest).
    func send(_ text: String)
    /// Ends the connection (logged with `reason`).
    func disconnect(reason: String)
}
