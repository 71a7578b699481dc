/// The message types of Snapcast's binary protocol v2 (as spoken by Snapcast 0.26).
///
/// A 0.26 peer drops the connection when it receives any other type, so Tutti never sends one.
public enum MessageType: UInt16, Sendable, CaseIterable {
    case codecHeader = 1
    case wireChunk = 2
    case serverSettings = 3
    case time = 4
    case hello = 5
    case streamTags = 6
    case clientInfo = 7
}
