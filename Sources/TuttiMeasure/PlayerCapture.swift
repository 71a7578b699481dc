/// One `read()` of a player's stdout pipe, as the harness saw it.
public struct CaptureRead: Sendable, Equatable {
    /// CLOCK_MONOTONIC nanoseconds when the read returned (the harness's stamp on arrival).
    public var arrival: Int64
    /// The bytes the read returned: a piece of the raw interleaved s16le stream, cut anywhere
    /// (not necessarily on a frame or write boundary).
    public var bytes: [UInt8]

    public init(arrival: Int64, bytes: [UInt8]) {
        self.arrival = arrival
        self.bytes = bytes
    }
}

/// Everything the harness recorded of one player: its name, its reads in arrival order, and the
/// constant lead with which it writes each block ahead of the block's first frame being due.
///
/// The player contract (DESIGN.md, `pipe:stdout`) is that a block is written when its first
/// frame is due at the DAC minus `leadNanoseconds`; a positive lead means the bytes arrive
/// before they are "played", so the analysis adds the lead to arrival times. Players of one kind
/// share one lead, so a wrong lead shifts that kind as a whole and never the skew between them.
///
/// Edge cases: empty reads are ignored; a trailing partial frame (the capture stopped in the
/// middle of one) is dropped; reads must be in arrival order (the analysis does not sort them).
public struct PlayerCapture: Sendable {
    /// The name shown in the report, the table and the plot legend.
    public var name: String
    /// The reads in the order the harness made them.
    public var reads: [CaptureRead]
    /// How long before its first frame is due a block is written (nanoseconds, ≥ 0 normally).
    public var leadNanoseconds: Int64

    public init(name: String, reads: [CaptureRead] = [], leadNanoseconds: Int64 = 0) {
        self.name = name
        self.reads = reads
        self.leadNanoseconds = leadNanoseconds
    }

    /// Records one read; a harness calls this from its reader loop. Empty reads are skipped.
    public mutating func append(arrival: Int64, bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        reads.append(CaptureRead(arrival: arrival, bytes: bytes))
    }

    /// The total number of bytes captured.
    public var byteCount: Int { reads.reduce(0) { $0 + $1.bytes.count } }
}

/// The PCM layout of every captured stream: interleaved signed 16-bit little-endian frames.
public struct CaptureFormat: Sendable, Equatable {
    /// Frames per second at the player's output (48 000 typically).
    public var sampleRate: Int
    /// Interleaved channels per frame (2 typically).
    public var channels: Int

    public init(sampleRate: Int = 48_000, channels: Int = 2) {
        precondition(sampleRate > 0 && channels > 0, "a capture format needs a positive rate and channel count")
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Bytes per interleaved frame.
    public var bytesPerFrame: Int { 2 * channels }
}
