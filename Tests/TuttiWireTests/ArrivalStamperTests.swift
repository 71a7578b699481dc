import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import TuttiWire

/// Reads are stamped when they arrive, before decoding, and passed on unchanged.
@Suite struct ArrivalStamperTests {
    @Test func stampsEachReadAndForwardsItsBytes() throws {
        let ticks = Mutex<Int64>(100)
        let arrival = ArrivalTime()
        let channel = EmbeddedChannel(handler: ArrivalStamper(arrival: arrival) { ticks.withLock { $0 } })
        #expect(arrival.latest == 0)
        try channel.writeInbound(ByteBuffer(bytes: [1, 2, 3]))
        #expect(arrival.latest == 100)
        ticks.withLock { $0 = 250 }
        try channel.writeInbound(ByteBuffer(bytes: [4]))
        #expect(arrival.latest == 250)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [4]))
        _ = try channel.finish()
    }
}
