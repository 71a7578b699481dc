import Foundation
import TuttiControl
import TuttiSources

/// Receive mode: a phone sending its Bluetooth audio to a speaker host becomes a stream any
/// group can play. The host reports its connected phones (`Host.Phones`); for each, the server
/// keeps a stream "NAME (Bluetooth)" whose source is a TCP receiver, and asks the host to send
/// the phone's audio there (`Host.SendPhone {address, port}`).
extension ControlPlane {
    /// At most this many phone streams (each a listening port), whatever hosts report.
    static let phoneStreamLimit = 16

    static func phoneStreamID(_ name: String) -> String {
        let cleaned = name.filter { !$0.isNewline && $0 != "?" && $0 != "&" && $0 != "#" }.trimmingCharacters(in: .whitespaces)
        return String((cleaned.isEmpty ? "Phone" : cleaned).prefix(80)) + " (Bluetooth)"
    }

    /// A host's `Host.Phones` notice: `{"phones": [{"address", "name"}]}`, its connected phones.
    func hostReportedPhones(_ host: String, _ params: JSON?) async {
        guard model.speaker(host)?.capabilities.contains(Capability.bluetooth) == true else {
            logger.warning("speaker '\(host)' reports phones but manages no Bluetooth; ignored")
            return
        }
        for phone in (params?["phones"]?.arrayValue ?? []).prefix(8) {
            guard let address = phone["address"]?.stringValue, !address.isEmpty, address.count <= 64 else { continue }
            let id = Self.phoneStreamID(phone["name"]?.stringValue ?? address)
            let port: Int
            do {
                port = try await receiverPort(for: id)
            } catch {
                logger.error("speaker host '\(host)': phone \(address)'s stream '\(id)': \(error.message) \(error.data?.stringValue ?? "")")
                continue
            }
            switch await callHost(host, "Host.SendPhone", ["address": .string(address), "port": .int(port)]) {
            case .success:
                logger.info("speaker host '\(host)' sends phone \(address)'s audio to stream '\(id)' (port \(port))")
            case .failure(let error):
                logger.error("speaker host '\(host)' cannot send phone \(address)'s audio: \(error.message) \(error.data?.text ?? "")")
            }
        }
    }

    /// The port of the phone's receiver stream, made (and stored, so groups keep choosing it)
    /// the first time that phone sends.
    private func receiverPort(for id: String) async throws(RPCError) -> Int {
        if let stream = model.streams.first(where: { $0.id == id }) {
            guard case .tcp(_, let port, .server)? = (try? SourceURI(parsing: stream.uri))?.kind else {
                throw .conflict("a stream named '\(id)' exists and is not a phone's receiver")
            }
            return port
        }
        let phones = model.streams.filter { $0.id.hasSuffix(" (Bluetooth)") }
        guard phones.count < Self.phoneStreamLimit else {
            throw .conflict("there are already \(phones.count) phone streams: remove one with Stream.RemoveStream (tutti ctl stream remove)")
        }
        let name = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "phone"
        let stream = try await streamHost.open("tcp://\(streamHost.receiverHost):0?name=\(name)&mode=server", Set(model.streams.map(\.id)))
        do {
            try apply(.addStream(stream), origin: nil)
        } catch {
            streamHost.close(stream.id)
            throw RPCError(error)
        }
        guard case .tcp(_, let port, .server)? = (try? SourceURI(parsing: stream.uri))?.kind, port > 0 else {
            throw .internalError("the receiver for '\(id)' has no port (\(stream.uri))")
        }
        return port
    }
}
