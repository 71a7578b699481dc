import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import TuttiWire

/// The NIO decoder copes with input split anywhere and with several messages per read.
@Suite struct DecoderVerifierTests {
    @Test func byteAtATimeCoalescedAndShuffled() throws {
        let frames = RoundTripTests.samples.map { frame -> SnapFrame in
            var copy = frame
            copy.sent = TimeVal(nanoseconds: frame.sent.nanoseconds)
            copy.received = TimeVal(nanoseconds: frame.received.nanoseconds)
            return copy
        }
        let pairs = frames.map { (input: $0.encoded(), output: [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { SnapFrameDecoder() }
    }

    @Test func closingMidMessageIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SnapFrameDecoder()))
        var bytes = SnapFrame(message: .clientInfo(ClientInfo())).encoded()
        let half = bytes.readSlice(length: 10)!
        try channel.writeInbound(half)
        #expect(throws: WireError.closedMidMessage(bufferedBytes: 10)) { try channel.finish() }
    }
}
