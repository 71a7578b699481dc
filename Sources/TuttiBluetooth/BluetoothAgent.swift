import NIOConcurrencyHelpers
import TuttiDBus

/// The pairing agent Tutti registers with BlueZ as "NoInputNoOutput", so speakers pair headless
/// ("Just Works"). It says yes only to what Tutti asked for: a pairing it started, or — while
/// receive mode is on — a phone pairing to the box. Anything else is rejected, so a stranger in
/// range cannot pair with the box.
final class BluetoothAgent: Sendable {
    static let path = "/org/tutti/agent"

    private struct State {
        var expected: Set<String> = []  // device paths being paired on our request
        var acceptIncoming = false
    }
    private let state = NIOLockedValueBox(State())

    func expect(_ devicePath: String) { _ = state.withLockedValue { $0.expected.insert(devicePath) } }
    func stopExpecting(_ devicePath: String) { _ = state.withLockedValue { $0.expected.remove(devicePath) } }
    func acceptIncoming(_ on: Bool) { state.withLockedValue { $0.acceptIncoming = on } }

    private func allowed(_ call: DBusMessage) -> Bool {
        guard let device = call.body.first?.string else { return false }
        return state.withLockedValue { $0.expected.contains(device) || $0.acceptIncoming }
    }

    /// Answers BlueZ's org.bluez.Agent1 calls.
    func handle(_ call: DBusMessage) -> Result<[DBusValue], DBusError> {
        let rejected = DBusError(name: "org.bluez.Error.Rejected", message: "Tutti did not ask to pair with this device")
        switch call.member {
        case "Release", "Cancel", "DisplayPinCode", "DisplayPasskey":
            return .success([])
        case "RequestConfirmation", "RequestAuthorization":
            return allowed(call) ? .success([]) : .failure(rejected)
        case "AuthorizeService":
            return allowed(call) ? .success([]) : .failure(rejected)
        case "RequestPinCode":
            // Speakers without a display that still ask for a PIN use 0000.
            return allowed(call) ? .success([.string("0000")]) : .failure(rejected)
        case "RequestPasskey":
            return allowed(call) ? .success([.uint32(0)]) : .failure(rejected)
        default:
            return .failure(.unknownMethod("org.bluez.Agent1 has no \(call.member ?? "")"))
        }
    }
}
