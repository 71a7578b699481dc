import TuttiTiming

/// One completed Time request/reply: the four timestamps of an NTP-style exchange.
///
/// `clientSent` (t1) and `clientReceived` (t4) are read from the speaker's local clock;
/// `serverReceived` (t2) and `serverSent` (t3) from the server's clock. In Snapcast terms the
/// reply's `latency` field is c2s = t2 − t1 and s2c = t4 − t3. The exchange says nothing about
/// how the round trip splits between the two directions; ``ClockEstimator`` assumes the
/// *smallest* delays of the two directions are equal, never that a single exchange is symmetric.
public struct TimeExchange: Hashable, Sendable {
    /// t1: local clock when the request left.
    public var clientSent: Nanos
    /// t2: server clock when the request arrived.
    public var serverReceived: Nanos
    /// t3: server clock when the reply left.
    public var serverSent: Nanos
    /// t4: local clock when the reply arrived.
    public var clientReceived: Nanos

    /// Creates an exchange from its four timestamps (t1, t2, t3, t4); does not validate
    /// (see ``isWellFormed``).
    public init(clientSent: Nanos, serverReceived: Nanos, serverSent: Nanos, clientReceived: Nanos) {
        self.clientSent = clientSent
        self.serverReceived = serverReceived
        self.serverSent = serverSent
        self.clientReceived = clientReceived
    }

    /// Creates an exchange from Snapcast's fields: the client's send and receive times, the
    /// reply's `latency` (c2s = t2 − t1) and the reply header's `sent` (t3).
    public init(clientSent: Nanos, clientToServer: Nanos, serverSent: Nanos, clientReceived: Nanos) {
        self.init(
            clientSent: clientSent, serverReceived: clientSent &+ clientToServer,
            serverSent: serverSent, clientReceived: clientReceived)
    }

    /// c2s = t2 − t1: the up delay plus the server's offset from the local clock.
    public var clientToServer: Nanos { serverReceived &- clientSent }

    /// s2c = t4 − t3: the down delay minus the server's offset from the local clock.
    public var serverToClient: Nanos { clientReceived &- serverSent }

    /// Network round trip, (t4 − t1) − (t3 − t2): time spent on the wire, without the
    /// server's processing time. Negative only for malformed exchanges.
    public var roundTrip: Nanos { (clientReceived &- clientSent) &- (serverSent &- serverReceived) }

    /// The classic midpoint offset estimate (c2s − s2c) / 2 (server minus local), valid at
    /// ``localMidpoint``; off by half the difference of the two one-way delays.
    public var midpointOffset: Nanos { (clientToServer &- serverToClient) / 2 }

    /// Local time halfway between sending and receiving, (t1 + t4) / 2, without overflow.
    public var localMidpoint: Nanos { clientSent &+ (clientReceived &- clientSent) / 2 }

    /// True when time runs forward on both sides and the network round trip is not negative.
    public var isWellFormed: Bool {
        clientReceived >= clientSent && serverSent >= serverReceived && roundTrip >= 0
    }
}
