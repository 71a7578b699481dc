import TuttiDBus

/// Why a Bluetooth operation did not happen, in the words a user needs: what is wrong and what
/// to do. Mapped from BlueZ's D-Bus error names and the texts inside `org.bluez.Error.Failed`.
public enum BluetoothError: Error, Sendable, Equatable, CustomStringConvertible {
    /// BlueZ is not running, or the box has no adapter.
    case noAdapter(String)
    /// The adapter is switched off (rfkill, or Powered=false).
    case adapterOff(adapter: String)
    /// No speaker with this address (never seen in a scan, or forgotten).
    case unknownDevice(String)
    /// The speaker did not answer: off, asleep, or too far away.
    case outOfRange(device: String)
    /// The speaker refused pairing (often: it is not in pairing mode).
    case pairingRejected(device: String)
    /// Pairing failed (keys missing or stale: forget it and pair again).
    case authenticationFailed(device: String)
    /// The adapter was busy with another operation and the retries ran out.
    case busy(adapter: String)
    /// The adapter carries as many speakers as it can play to well.
    case adapterLimit(adapter: String, limit: Int, connected: [String])
    /// The operation needs a state the speaker is not in (not connected, not paired…).
    case notPossible(String)
    /// No answer from BlueZ in time.
    case timedOut(String)
    /// Anything else BlueZ said, as it said it.
    case failed(String)

    public var description: String {
        switch self {
        case .noAdapter(let why): "no Bluetooth adapter: \(why)"
        case .adapterOff(let adapter): "Bluetooth adapter \(adapter) is switched off (check `rfkill list`, or power it on)"
        case .unknownDevice(let address): "no Bluetooth speaker \(address) (scan first; is it in pairing mode?)"
        case .outOfRange(let device): "\(device) did not answer: it is off, asleep or out of range"
        case .pairingRejected(let device): "\(device) refused pairing: put it in pairing mode and try again"
        case .authenticationFailed(let device): "pairing with \(device) failed: forget it here and on the speaker, then pair again"
        case .busy(let adapter): "Bluetooth adapter \(adapter) is busy; try again in a moment"
        case .adapterLimit(let adapter, let limit, let connected):
            "Bluetooth adapter \(adapter) already plays to \(limit) speaker\(limit == 1 ? "" : "s") (\(connected.joined(separator: ", "))), "
                + "as many as it carries without stutter: disconnect one or add an adapter"
        case .notPossible(let why): why
        case .timedOut(let what): "Bluetooth did not answer in time (\(what))"
        case .failed(let why): "Bluetooth: \(why)"
        }
    }

    /// A short machine-readable name for the API ("out-of-range", "adapter-limit", …).
    public var code: String {
        switch self {
        case .noAdapter: "no-adapter"
        case .adapterOff: "adapter-off"
        case .unknownDevice: "unknown-device"
        case .outOfRange: "out-of-range"
        case .pairingRejected: "pairing-rejected"
        case .authenticationFailed: "authentication-failed"
        case .busy: "busy"
        case .adapterLimit: "adapter-limit"
        case .notPossible: "not-possible"
        case .timedOut: "timed-out"
        case .failed: "failed"
        }
    }

    /// Whether the same operation may work if tried again shortly (the adapter was busy).
    var isTransient: Bool {
        if case .busy = self { return true }
        return false
    }

    /// Maps BlueZ's answer to a call about `device` on `adapter`.
    static func from(_ error: DBusError, device: String, adapter: String) -> BluetoothError {
        let name = error.name.replacingPrefix("org.bluez.Error.")
        let text = error.message
        switch name {
        case "InProgress": return .busy(adapter: adapter)
        case "NotReady": return .adapterOff(adapter: adapter)
        case "AuthenticationRejected", "AuthenticationCanceled": return .pairingRejected(device: device)
        case "AuthenticationFailed": return .authenticationFailed(device: device)
        case "ConnectionAttemptFailed", "AuthenticationTimeout": return .outOfRange(device: device)
        case "DoesNotExist": return .unknownDevice(device)
        case "AlreadyConnected": return .notPossible("\(device) is already connected")
        case "NotConnected": return .notPossible("\(device) is not connected")
        case "AlreadyExists": return .notPossible("\(device) is already paired")
        case "Failed":
            if text.contains("page-timeout") || text.contains("Page Timeout") || text.contains("Host is down") { return .outOfRange(device: device) }
            if text.contains("concurrent-connection-limit") { return .adapterLimit(adapter: adapter, limit: 0, connected: []) }
            if text.contains("busy") { return .busy(adapter: adapter) }
            if text.contains("key-missing") { return .authenticationFailed(device: device) }
            return .failed(text.isEmpty ? error.name : text)
        default:
            switch error.name {
            case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
                return .noAdapter("BlueZ (bluetoothd) is not running")
            case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod":
                return .unknownDevice(device)
            case "org.freedesktop.DBus.Error.NoReply": return .timedOut(text)
            case "org.freedesktop.DBus.Error.Disconnected": return .noAdapter("the system bus went away: \(text)")
            default: return .failed(error.description)
            }
        }
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
