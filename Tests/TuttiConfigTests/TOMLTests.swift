import Testing
import TuttiConfig

/// The config file's TOML parser: what TOML 1.0 documents mean, and that invalid ones are
/// refused with their line (never a trap; `Fuzz/run toml` checks that at scale).
struct TOMLTests {
    @Test func everyValueKind() throws {
        let document = try TOML.parse(#"""
            # a comment
            bare_key = "basic \"quoted\" \t tab \u00E9 \U0001F600"
            'literal key' = 'C:\path\no escapes'
            "" = "an empty key is allowed"
            1234 = 'digits are a bare key'
            multi = """
            one
              two \
                joined"""
            raw = '''
            first newline trimmed \n stays'''
            quotes = """""two quotes before the end"""""
            integers = [+99, 42, 0, -17, 1_000, 0xDEAD_beef, 0o755, 0b1101]
            floats = [1.0, 3.1415, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, inf, -inf]
            nan = nan
            flags = [true, false]
            nested = [ [1, 2], ["a", 'b'], [], ] # trailing comma
            point = { x = 1, y.z = 2 }
            """#)
        #expect(document["bare_key"] == .string("basic \"quoted\" \t tab é 😀"))
        #expect(document["literal key"] == .string(#"C:\path\no escapes"#))
        #expect(document[""] == .string("an empty key is allowed"))
        #expect(document["1234"] == .string("digits are a bare key"))
        #expect(document["multi"] == .string("one\n  two joined"))
        #expect(document["raw"] == .string(#"first newline trimmed \n stays"#))
        #expect(document["quotes"] == .string(#"""two quotes before the end"""#))
        #expect(document["integers"] == .array([99, 42, 0, -17, 1000, 0xDEADBEEF, 0o755, 0b1101].map { .integer($0) }))
        #expect(document["floats"] == .array([1.0, 3.1415, -0.01, 5e22, 1e6, -2e-2, 6.626e-34, 224617.445991, .infinity, -.infinity].map { .float($0) }))
        guard case .float(let nan)? = document["nan"] else { Issue.record("nan is not a float"); return }
        #expect(nan.isNaN)
        #expect(document["flags"] == .array([.bool(true), .bool(false)]))
        #expect(document["nested"] == .array([.array([.integer(1), .integer(2)]), .array([.string("a"), .string("b")]), .array([])]))
        #expect(document["point"] == .table(["x": .integer(1), "y": .table(["z": .integer(2)])]))
    }

    @Test func tablesArraysOfTablesAndDottedKeys() throws {
        let document = try TOML.parse("""
            name.first = "Tom"
            name.last = "Preston-Werner"

            [speakers."kitchen pi"]
            volume = 40
            [speakers.patio]
            muted = true

            [[stream]]
            source = "a"
            [[stream]]
            source = "b"
            [stream.options]   # belongs to the last [[stream]]
            loop = true

            [x.y.z]
            [x]                # defining a super-table afterwards is allowed
            w = 1
            """)
        #expect(document["name"] == .table(["first": .string("Tom"), "last": .string("Preston-Werner")]))
        #expect(document["speakers"] == .table(["kitchen pi": .table(["volume": .integer(40)]), "patio": .table(["muted": .bool(true)])]))
        #expect(document["stream"] == .array([.table(["source": .string("a")]), .table(["source": .string("b"), "options": .table(["loop": .bool(true)])])]))
        #expect(document["x"] == .table(["y": .table(["z": .table([:])]), "w": .integer(1)]))
    }

    @Test(arguments: [
        ("a = 1\na = 2", "line 2: 'a' is defined twice"),
        ("[t]\n[t]", "line 2: table 't' is defined twice"),
        ("[a]\nb.c = 1\n[a.b]", "line 3: table 'a.b' is defined twice"),
        ("a = {b = 1}\n[a.c]", "line 2: 'a' is a value, not a table"),
        ("a = [1]\n[[a]]", "line 2: 'a' is already defined as something else"),
        ("[[a]]\n[a]", "line 2: 'a' is already defined as something else"),
        ("a = ", "line 1: expected a value, found the end of the file"),
        ("a = 1 b = 2", "line 1: expected the end of the line, found 'b'"),
        ("a = \"open", "line 1: unterminated string"),
        ("a = \"\"\"\nopen", "line 2: unterminated multi-line string"),
        ("a = \"bad \\q\"", "line 1: invalid escape '\\q'"),
        ("a = \"\\uD800\"", "line 1: invalid \\u escape"),
        ("a = 012", "line 1: '012' has a leading zero"),
        ("a = 1__0", "line 1: '1__0' is not a valid value"),
        ("a = 1.", "line 1: '1.' is not a valid value"),
        ("a = .5", "line 1: '.5' is not a valid value"),
        ("a = 99999999999999999999", "line 1: '99999999999999999999' does not fit a 64-bit integer"),
        ("a = 0xG", "line 1: '0xG' is not a valid number"),
        ("when = 1979-05-27T07:32:00Z", "line 1: dates are not used by any setting"),
        ("at = 07:32:00", "line 1: times are not used by any setting"),
        ("a = tru", "line 1: expected a value, found 't'"),
        ("a = [1, 2", "line 1: expected ',' or ']' in the array, found the end of the file"),
        ("a = {b = 1,}", "line 1: expected a key (letters, digits, '_', '-', or a quoted string), found '}'"),
        ("a = {b = 1\n}", "line 1: expected ',' or '}' in the inline table, found the end of the line"),
        ("\"\"\"k\"\"\" = 1", "line 1: a key cannot be a multi-line string"),
        ("[a]]", "line 1: expected the end of the line, found ']'"),
        ("[[a] ]", "line 1: expected ']]' to end the table-array name, found ' '"),
        ("a = \"\u{01}\"", "line 1: control character U+0001 is not allowed here"),
        ("a = 1 # bell \u{07}", "line 1: control character U+0007 is not allowed here"),
        ("a = 1\r b = 2", "line 1: expected the end of the line, found control character U+000D"),
        // Found by the fuzzer: TOMLKit's parser aborted the process on these.
        ("[#]", "line 1: expected a key (letters, digits, '_', '-', or a quoted string), found '#'"),
        ("x = 1979-05-27T;07:32:00", "line 1: dates are not used by any setting"),
        ("[é]", "line 1: expected a key (letters, digits, '_', '-', or a quoted string), found a non-ASCII character"),
    ])
    func invalidDocumentsAreRefusedWithTheirLine(text: String, message: String) {
        do {
            let document = try TOML.parse(text)
            Issue.record("parsed as \(document)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        // Found by the fuzzer: 100 000 open brackets overflowed the stack.
        let deep = "a = " + String(repeating: "[", count: 100_000)
        #expect(throws: TOMLError(line: 1, message: "arrays and inline tables nested more than 64 deep")) { try TOML.parse(deep) }
        let mixed = "a = " + String(repeating: "[{b = ", count: 40)
        #expect(throws: TOMLError(line: 1, message: "arrays and inline tables nested more than 64 deep")) { try TOML.parse(mixed) }
        let fine = "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try TOML.parse(fine)["a"] != nil)
    }

    @Test func crlfLineEndsAreLineEnds() throws {
        let document = try TOML.parse("a = 1\r\n[t]\r\nb = \"\"\"x\r\ny\"\"\"\r\n")
        #expect(document["a"] == .integer(1))
        #expect(document["t"] == .table(["b": .string("x\ny")]))
    }
}

/// The config file's keys and types, on top of the parser.
struct ConfigFileTests {
    @Test func everySetting() throws {
        let file = try ConfigFile.decode("""
            buffer_ms = 800
            bind = "0.0.0.0"
            stream_port = 1704
            trusted_networks = ["192.168.1.0/24"]
            sources = ["tone://?name=a"]
            [[stream]]
            source = "tone://?name=b"
            [speakers."kitchen pi"]
            stream = "b"
            volume = 40
            muted = true
            latency_ms = 25
            """, name: "t.toml")
        #expect(file.buffer_ms == 800 && file.bind == "0.0.0.0" && file.stream_port == 1704 && file.control_port == nil)
        #expect(file.trusted_networks == ["192.168.1.0/24"])
        #expect(file.sourceURIs == ["tone://?name=a", "tone://?name=b"])
        let kitchen = try #require(file.speakers?["kitchen pi"])
        #expect(kitchen.stream == "b" && kitchen.volume == 40 && kitchen.muted == true && kitchen.latency_ms == 25)
    }

    @Test(arguments: [
        ("bufer_ms = 1\n[speakers.a]\nvolum = 3\n[[stream]]\nsource = \"x\"\nloop = true", "config file t.toml has unknown keys: bufer_ms, speakers.a.volum, stream[1].loop"),
        ("buffer_ms = 1.5", "config file t.toml: 'buffer_ms' has the wrong type (expected an integer, found a float)"),
        ("sources = [\"a\", 2]", "config file t.toml: 'sources' has the wrong type (expected an array of strings, found an integer)"),
        ("[speakers.a]\nmuted = \"yes\"", "config file t.toml: 'speakers.a.muted' has the wrong type (expected true or false, found a string)"),
        ("speakers = 3", "config file t.toml: 'speakers' has the wrong type (expected a table, found an integer)"),
        ("[[stream]]", "config file t.toml: 'stream[1].source' has the wrong type (expected a string)"),
        ("stream = \"x\"", "config file t.toml: 'stream' has the wrong type (expected an array of tables ([[stream]]), found a string)"),
        ("a = ", "config file t.toml is not valid TOML: line 1: expected a value, found the end of the file"),
    ])
    func problemsAreNamed(text: String, message: String) {
        do {
            _ = try ConfigFile.decode(text, name: "t.toml")
            Issue.record("decoded")
        } catch {
            #expect(error.message == message)
        }
    }
}
