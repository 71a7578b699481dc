import Testing
@testable import TuttiControl

@Suite struct JSONRPCTests {
    @Test func parsesARequestKeepingIntegersAndBooleansApart() throws {
        let message = JSONRPC.parse(Array(#"{"jsonrpc":"2.0","id":7,"method":"Client.SetVolume","params":{"id":"a","volume":{"percent":40,"muted":false}}}"#.utf8))
        guard case .single(let request) = message else { Issue.record("not a request: \(message)"); return }
        #expect(request.id == .int(7))
        #expect(request.method == "Client.SetVolume")
        #expect(request.params["volume"]?["percent"] == .int(40))
        #expect(request.params["volume"]?["muted"] == .bool(false))
    }

    @Test(arguments: [
        ("{not json", -32700),
        ("[]", -32600),
        ("42", -32600),
        (#"{"jsonrpc":"1.0","id":1,"method":"x"}"#, -32600),
        (#"{"jsonrpc":"2.0","id":1}"#, -32600),
        (#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#, -32600),
        (#"{"jsonrpc":"2.0","id":1,"method":"x","params":5}"#, -32600),
        ("\u{FF}\u{FE}", -32700),
    ])
    func malformedMessagesAreAnsweredWithTheStandardCode(text: String, code: Int) {
        guard case .invalid(let failure) = JSONRPC.parse(Array(text.utf8)) else { Issue.record("accepted \(text)"); return }
        #expect(failure.error.code == code)
    }

    @Test func aBatchAnswersEachElementOnItsOwn() {
        let message = JSONRPC.parse(Array(#"[{"jsonrpc":"2.0","id":1,"method":"Server.GetRPCVersion"}, 5, {"jsonrpc":"2.0","method":"Server.GetStatus"}]"#.utf8))
        guard case .batch(let elements) = message else { Issue.record("not a batch"); return }
        #expect(elements.count == 3)
        #expect((try? elements[0].get())?.method == "Server.GetRPCVersion")
        if case .failure(let failure) = elements[1] { #expect(failure.error.code == -32600) } else { Issue.record("5 accepted") }
        #expect((try? elements[2].get())?.expectsResponse == false)
    }

    @Test func deeplyNestedJSONIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .invalid(let failure) = JSONRPC.parse(Array(deep.utf8)) else { Issue.record("accepted"); return }
        #expect(failure.error.code == -32700)
    }

    /// Found by the jsonrpc fuzz target: an id of 1e22 trapped converting to Int.
    @Test func anIntegerIDBeyondIntsRangeIsKeptNotACrash() {
        guard case .single(let request) = JSONRPC.parse(Array(#"{"jsonrpc":"2.0","id":3333333333333333333334,"method":"Server.GetStatus"}"#.utf8)) else {
            Issue.record("refused")
            return
        }
        #expect(request.id?.intValue == nil)
        guard case .single(let seven) = JSONRPC.parse(Array(#"{"jsonrpc":"2.0","id":7.0,"method":"Server.GetStatus"}"#.utf8)) else { return }
        #expect(seven.id == 7)
    }

    @Test func jsonTextIsCompactAndSorted() throws {
        let value: JSON = ["b": 1, "a": [true, .null, 1.5, "x/y"]]
        #expect(value.text == #"{"a":[true,null,1.5,"x/y"],"b":1}"#)
        #expect(try JSON(parsing: value.text) == value)
    }
}
