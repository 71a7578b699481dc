import NIOCore

/// What arrives on a D-Bus socket: lines of the authentication exchange, then messages.
enum DBusInbound {
    case authLine(String)
    case message(DBusMessage)
}

/// Splits a bus's bytes into authentication lines (until the server's `OK`) and then whole
/// messages. Returns nil until a whole line or message is there; bad bytes throw, which closes
/// the connection with the error.
struct DBusFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = DBusInbound

    private var authenticated = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let item = try next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(item))
        return .continue
    }

    mutating func next(from buffer: inout ByteBuffer) throws -> DBusInbound? {
        if !authenticated {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                guard buffer.readableBytes < 16384 else { throw DBusWireError.invalid("an authentication line over 16 KiB") }
                return nil
            }
            let length = newline - buffer.readerIndex + 1
            let line = buffer.readString(length: length)!.trimmingCharacters(in: "\r\n")
            if line.hasPrefix("OK") { authenticated = true }
            return .authLine(line)
        }
        let view = buffer.readableBytesView
        guard let length = try DBusMessage.length(ofMessageStartingIn: ArraySlice(view.prefix(16))) else { return nil }
        guard buffer.readableBytes >= length else { return nil }
        let bytes = buffer.readBytes(length: length)!
        return .message(try DBusMessage(decoding: bytes))
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
