import NIOCore

/// When the bytes of the current read arrived, for stamping Time messages as early as possible.
///
/// Confined to one channel's event loop. ``ArrivalStamper`` writes it before the bytes are
/// decoded; a handler further up reads it while handling the frames of that read, so a Time
/// message that arrived together with audio is not stamped late by the audio's decoding.
public final class ArrivalTime: @unchecked Sendable {
    /// Clock reading (ns) of the most recent read; 0 before the first.
    public var latest: Int64 = 0
    public init() {}
}

/// Stamps each raw read with `now()` into an ``ArrivalTime`` and passes the bytes on unchanged.
/// Put it first in the pipeline, before the frame decoder.
public final class ArrivalStamper: ChannelInboundHandler, Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private let arrival: ArrivalTime
    private let now: @Sendable () -> Int64

    public init(arrival: ArrivalTime, now: @escaping @Sendable () -> Int64) {
        self.arrival = arrival
        self.now = now
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrival.latest = now()
        context.fireChannelRead(data)
    }
}
