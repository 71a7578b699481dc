import Foundation

/// Decodes the JSON text of a message payload into `T`, whose properties are optionals so that
/// a peer may omit keys; a key of the wrong type, or text that is not a JSON object, is an error.
func decodeJSONPayload<T: Decodable>(_ type: T.Type, from text: String, message: String) throws(WireError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch let error as DecodingError {
        throw .garbled(field: "\(message) JSON", reason: describe(error))
    } catch {
        throw .garbled(field: "\(message) JSON", reason: "not valid JSON")
    }
}

/// Encodes `value` as compact JSON with sorted keys, the form Tutti sends.
func encodeJSONPayload<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }  // Plain values always encode.
    return String(decoding: data, as: UTF8.self)
}

private func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(let type, let context):
        "key '\(path(context))' is not \(type)"
    case .valueNotFound(_, let context):
        "key '\(path(context))' is missing"
    case .keyNotFound(let key, _):
        "key '\(key.stringValue)' is missing"
    case .dataCorrupted(let context):
        context.codingPath.isEmpty ? "not a valid JSON object" : "key '\(path(context))' is invalid"
    @unknown default:
        "not a valid JSON object"
    }
}

private func path(_ context: DecodingError.Context) -> String {
    context.codingPath.map(\.stringValue).joined(separator: ".")
}
