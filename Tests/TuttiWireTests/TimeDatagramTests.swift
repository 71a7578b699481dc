import NIOCore
import Testing
@testable import TuttiWire

/// The time channel's datagrams: exactly 40 bytes each way, anything else refused.
@Suite struct TimeDatagramTests {
    @Test func aRequestAndItsReplyRoundTripWithNanosecondStamps() throws {
        let request = TimeDatagram.request(id: 65_535, token: 0xfedc_ba98_7654_3210, sent: -1_234_567_891)
        let bytes = request.encoded()
        #expect(bytes.readableBytes == TimeDatagram.size)
        #expect(try TimeDatagram.decode(bytes) == request)
        let reply = request.reply(received: 5_000_000_001, sent: 5_000_000_999)
        let decoded = try TimeDatagram.decode(reply.encoded())
        #expect(decoded == reply)
        #expect(decoded.kind == .reply && decoded.clientSent == -1_234_567_891 && decoded.serverReceived == 5_000_000_001)
        #expect(decoded.serverSent == 5_000_000_999, "nanoseconds survive: no microsecond rounding")
    }

    @Test func anythingButOneDatagramIsRefused() {
        let good = Array(TimeDatagram.request(id: 1, token: 2, sent: 3).encoded().readableBytesView)
        func refused(_ bytes: [UInt8]) -> Bool { (try? TimeDatagram.decode(ByteBuffer(bytes: bytes))) == nil }
        #expect(!refused(good))
        #expect(refused([]))
        #expect(refused(Array(good.dropLast())), "short")
        #expect(refused(good + [0]), "long")
        var wrongMagic = good
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(refused(wrongMagic))
        var wrongVersion = good
        wrongVersion[4] = 2
        #expect(refused(wrongVersion))
        var wrongKind = good
        wrongKind[5] = 7
        #expect(refused(wrongKind))
        // A Snapcast Time frame on the wrong port is not one either.
        #expect(refused(Array(SnapFrame(id: 1, message: .time(TimeMessage())).encoded().readableBytesView)))
    }

    @Test func tokensTravelAsSixteenHexDigits() {
        #expect(TimeDatagram.tokenText(0x1f) == "000000000000001f")
        #expect(TimeDatagram.token(parsing: "000000000000001f") == 0x1f)
        #expect(TimeDatagram.token(parsing: TimeDatagram.tokenText(.max)) == .max)
        #expect(TimeDatagram.token(parsing: "1f") == nil)
        #expect(TimeDatagram.token(parsing: "00000000000000zz") == nil)
        #expect(TimeDatagram.token(parsing: "+00000000000001f") == nil)
    }
}
