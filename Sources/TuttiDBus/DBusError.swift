/// What a D-Bus call can end in besides its return: the peer's error reply (a name such as
/// `org.bluez.Error.Failed` and its message), a timeout, or the bus going away.
public struct DBusError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var message: String

    public init(name: String, message: String) {
        self.name = name
        self.message = message
    }

    public var description: String { message.isEmpty ? name : "\(name): \(message)" }

    /// No reply within the call's timeout.
    public static func timedOut(_ what: String) -> DBusError {
        DBusError(name: "org.freedesktop.DBus.Error.NoReply", message: "no reply to \(what) in time")
    }

    /// The connection to the bus closed (or could not be opened).
    public static func disconnected(_ why: String) -> DBusError {
        DBusError(name: "org.freedesktop.DBus.Error.Disconnected", message: why)
    }

    public static func unknownMethod(_ what: String) -> DBusError {
        DBusError(name: "org.freedesktop.DBus.Error.UnknownMethod", message: what)
    }

    public static func invalidArgs(_ what: String) -> DBusError {
        DBusError(name: "org.freedesktop.DBus.Error.InvalidArgs", message: what)
    }
}
