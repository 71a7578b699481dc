/// The message types of Snapcast's binary protocol v2 (as spoken by Snapcast 0.26).
///
/// A 0.26 peer drops the connection when it receives any other type, so Tutti never sends
/// one to it: Tutti's own ``speakerStatus`` goes only to a server that asked for it.
public enum MessageType: UInt16, Sendable, CaseIterable {
    case codecHeader = 1
    case wireChunk = 2
    case serverSettings = 3
    case time = 4
    case hello = 5
    case streamTags = 6
    case clientInfo = 7
    /// Tutti: a speaker's report of its sync status, sent only when the server's
    /// ServerSettings asked for it (a real snapserver never does). "TT" in ASCII.
    case speakerStatus = 0x5454
    /// Tutti: a JSON-RPC request to a speaker host, or its response ("TU"); only between a
    /// Tutti server and a speaker that announced "rpc".
    case hostCall = 0x5455
}
