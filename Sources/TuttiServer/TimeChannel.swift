import Logging
import NIOCore
import Synchronization
import TuttiTiming
import TuttiWire

/// The tokens of the speaker connections the time channel answers (``TimeDatagram``): one per
/// connection of a speaker that announced the capability, issued when it says Hello and
/// revoked when it disconnects. Disabled (no tokens issued, so no speaker tries) when the
/// channel's port could not be bound.
final class TimeChannelTokens: Sendable {
    private let state = Mutex<(enabled: Bool, tokens: Set<UInt64>)>((false, []))

    /// The channel runs (its datagram port is bound): tokens may be issued.
    func enable() { state.withLock { $0.enabled = true } }

    /// A new token for a connection; nil while the channel does not run.
    func issue() -> UInt64? {
        state.withLock { state in
            guard state.enabled else { return nil }
            var token: UInt64
            repeat { token = UInt64.random(in: 1...UInt64.max) } while state.tokens.contains(token)
            state.tokens.insert(token)
            return token
        }
    }

    func revoke(_ token: UInt64) { _ = state.withLock { $0.tokens.remove(token) } }

    func isValid(_ token: UInt64) -> Bool { state.withLock { $0.tokens.contains(token) } }
}

/// Answers time requests on the server's datagram port: stamps each request's arrival (t2)
/// before anything else, checks its token, and replies stamped with the server clock just
/// before the write (t3). Anything else — bytes that are not a request, an unknown token — is
/// dropped and counted (a log line at most every 10 s): a peer's bad bytes never stop it.
///
/// Runs on an event loop of its own, so a reply never waits behind the audio loop's work.
final class TimeChannelResponder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let tokens: TimeChannelTokens
    private let clock: any TimeSource
    private let logger: Logger
    private var answered = 0
    private var dropped = 0
    private var lastDropLog: Nanos = .min / 2

    init(tokens: TimeChannelTokens, clock: any TimeSource, logger: Logger) {
        self.tokens = tokens
        self.clock = clock
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let receivedAt = clock.now()
        let envelope = unwrapInboundIn(data)
        let request: TimeDatagram
        do {
            request = try TimeDatagram.decode(envelope.data)
        } catch {
            drop(because: "\(error)", from: envelope.remoteAddress, now: receivedAt)
            return
        }
        guard request.kind == .request else { return drop(because: "not a request", from: envelope.remoteAddress, now: receivedAt) }
        guard tokens.isValid(request.token) else { return drop(because: "unknown token", from: envelope.remoteAddress, now: receivedAt) }
        var bytes = context.channel.allocator.buffer(capacity: TimeDatagram.size)
        request.reply(received: receivedAt, sent: 0).encode(into: &bytes)
        // t3, the datagram's last 8 bytes, is read after the encoding, right before the write.
        bytes.setInteger(clock.now(), at: bytes.writerIndex - 8, endianness: .little)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: bytes)), promise: nil)
        answered += 1
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP error for an earlier reply (the speaker went away) surfaces here: not ours to end.
        logger.debug("time channel: \(error)")
    }

    private func drop(because reason: String, from address: SocketAddress, now: Nanos) {
        dropped += 1
        guard now - lastDropLog >= 10 * .nanosPerSecond else { return }
        lastDropLog = now
        logger.info("time channel: dropped a datagram from \(address) (\(reason)); \(dropped) dropped, \(answered) answered so far")
    }
}
