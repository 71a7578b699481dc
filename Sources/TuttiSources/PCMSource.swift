import TuttiAudio

/// Where a stream's PCM comes from: a FIFO, a WAV file, a child process, a TCP peer, a generator.
///
/// A source only delivers bytes; it does not pace. The server's stream reader asks for bytes
/// when a chunk is due and decides, from how long they take to come, whether the source is
/// playing or has paused. Sources are used from one thread at a time (the reader's), which
/// may block in ``read(into:timeoutNanoseconds:)``.
public protocol PCMSource: AnyObject {
    /// The format of the bytes ``read(into:timeoutNanoseconds:)`` delivers.
    var format: SampleFormat { get }

    /// Reads up to `buffer.count` bytes, waiting at most `timeoutNanoseconds` for the first one.
    ///
    /// Returns as soon as some bytes are in (not necessarily a whole buffer or a whole frame).
    /// Never throws for a peer or writer going away: a FIFO whose writer left, a TCP client that
    /// disconnected or a child that exited simply yields `.timedOut` until data flows again.
    /// - Returns: `.bytes(n)` with n > 0, `.timedOut` when nothing came in time, `.ended` when the
    ///   source will never produce more (a WAV file without looping at its end).
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead

    /// Releases file descriptors, sockets and child processes. Idempotent.
    func close()
}

/// The outcome of one ``PCMSource/read(into:timeoutNanoseconds:)``.
public enum SourceRead: Equatable, Sendable {
    case bytes(Int)
    case timedOut
    case ended
}

/// Why a source could not be opened or read.
public enum SourceError: Error, Equatable, CustomStringConvertible {
    /// The URI is malformed or names an unknown scheme or option.
    case badURI(String)
    /// The file, FIFO or program could not be opened or started; the string says why (errno text).
    case unavailable(String)
    /// The file's content is not what the source needs (not a WAV, unsupported encoding, ...).
    case badContent(String)

    public var description: String {
        switch self {
        case .badURI(let why): "bad source URI: \(why)"
        case .unavailable(let why): "source unavailable: \(why)"
        case .badContent(let why): "bad source content: \(why)"
        }
    }
}
