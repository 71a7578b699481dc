import Foundation
import NIOCore
import TuttiConfig
import TuttiControl
import TuttiDBus
import TuttiFLAC
import TuttiSources
import TuttiWire

// libFuzzer targets for Tutti's parsers of untrusted input, in one executable built only by
// `Fuzz/run` (with -sanitize=fuzzer,address). TUTTI_FUZZ_TARGET picks the parser:
//   wire     the Snapcast wire decoder (bytes from a speaker or server), re-encoding what it decodes,
//            and the time channel's datagram decoder (the same port number, over UDP)
//   jsonrpc  JSON-RPC parsing, the API's method table and every command it plans, applied to a model
//   phrase   the plain-text grammar, and every action it reads, run on a copy of a model
//   flac     the FLAC decoder's every path
//   dbus     D-Bus messages as the bus sends them (a stream of them), re-encoding what decodes
//   toml     the config file (TOMLKit's C++ parser, the strict decoding) and every source URI in it
// Besides crashes, a broken model invariant after a command is a finding (it traps).

let target = ProcessInfo.processInfo.environment["TUTTI_FUZZ_TARGET"] ?? "wire"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "wire": fuzzWire(bytes)
    case "jsonrpc": fuzzJSONRPC(bytes)
    case "phrase": fuzzPhrase(String(decoding: bytes, as: UTF8.self))
    case "flac": FLACFuzz.run(data: bytes)
    case "dbus": fuzzDBus(bytes)
    case "toml": fuzzConfig(String(decoding: bytes, as: UTF8.self))
    default: fatalError("TUTTI_FUZZ_TARGET must be wire, jsonrpc, phrase, flac, dbus or toml, not \(target)")
    }
    return 0
}

// SwiftPM links an executable's entry point as <module>_main; libFuzzer's driver runs from it.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("TuttiFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, fuzzOne)
}

// MARK: Targets

func fuzzWire(_ bytes: [UInt8]) {
    var buffer = ByteBufferAllocator().buffer(bytes: bytes)
    let decoder = SnapFrameDecoder(maximumPayloadSize: 1 << 16)
    while let frame = try? decoder.next(from: &buffer) {
        var encoded = frame.encoded()
        _ = try? decoder.next(from: &encoded)
    }
    if let datagram = try? TimeDatagram.decode(ByteBuffer(bytes: bytes)), Array(datagram.encoded().readableBytesView) != bytes {
        fatalError("a time datagram changed on re-encoding: \(datagram)")
    }
}

/// A config file as `tutti server --config` reads it: decoded strictly, then each source parsed.
func fuzzConfig(_ text: String) {
    guard let file = try? ConfigFile.decode(text, name: "fuzz.toml") else { return }
    for uri in file.sourceURIs { _ = try? SourceURI(parsing: uri) }
}

/// Splits bytes into messages as the connection does; whatever decodes must encode to bytes that
/// decode to the same message.
func fuzzDBus(_ bytes: [UInt8]) {
    var rest = bytes[...]
    while let length = try? DBusMessage.length(ofMessageStartingIn: rest), length <= rest.count {
        if let message = try? DBusMessage(decoding: Array(rest.prefix(length))) {
            guard let again = try? message.encoded() else { fatalError("a decoded message does not encode: \(message)") }
            guard (try? DBusMessage(decoding: again)) == message else { fatalError("a message changed on re-encoding: \(message)") }
        }
        rest = rest.dropFirst(length)
    }
}

/// A house with speakers, groups, a pair, two streams and a routine: what the API and the
/// grammar act on.
let house: SystemModel = {
    var model = SystemModel(streams: [StreamInfo(id: "default", uri: "tone://?name=default"), StreamInfo(id: "jazz radio", uri: "tone://?name=jazz")])
    var counter = 0
    let commands: [Command] = [
        .speakerConnected(SpeakerHello(id: "kitchen", host: HostInfo(name: "kitchen-pi"), software: SoftwareInfo(name: "Tutti"))),
        .speakerConnected(SpeakerHello(id: "patio", host: HostInfo(name: "patio"), software: SoftwareInfo(name: "Snapclient"))),
        .speakerConnected(SpeakerHello(id: "left", host: HostInfo(name: "lr-left"), software: SoftwareInfo(name: "Tutti"))),
        .speakerConnected(SpeakerHello(id: "right", host: HostInfo(name: "lr-right"), software: SoftwareInfo(name: "Tutti"))),
        .setName(speaker: "kitchen", name: "Kitchen"),
        .createPair(left: "left", right: "right", name: "Living room"),
        .createGroup(name: "Downstairs", speakers: ["kitchen", "left"], stream: "jazz radio"),
        .putRoutine(Routine(id: "", name: "Good morning", aliases: ["wake up"], actions: [.setVolume(target: "kitchen", percent: 30)])),
    ]
    for command in commands {
        model = try! model.applying(command, at: WallTime(sec: 1)) {
            counter += 1
            return "id\(counter)"
        }.model
    }
    return model
}()

let api = ControlAPI()

func fuzzJSONRPC(_ bytes: [UInt8]) {
    switch JSONRPC.parse(bytes) {
    case .invalid(let failure): _ = JSONRPC.response(id: failure.id, error: failure.error).text
    case .single(let request): exercise(request)
    case .batch(let elements):
        for case .success(let request) in elements { exercise(request) }
    }
}

func exercise(_ request: JSONRPC.Request) {
    let plan: ControlAPI.Plan
    do {
        plan = try api.plan(request, model: house)
    } catch {
        _ = JSONRPC.response(id: request.id ?? .null, error: error).text
        return
    }
    switch plan {
    case .apply(let command, let render):
        var counter = 0
        guard let (next, outcome) = try? house.applying(command, at: WallTime(sec: 2), newID: { counter += 1; return "new\(counter)" }) else { return }
        check(next, after: "\(command)")
        _ = render(next, outcome.result).text
        _ = api.notifications(for: outcome.effects.events, in: next).map(\.json.text)
    case .run(let actions, _, _, _):
        simulate(actions)
    case .answer(let result):
        _ = result.text
    case .addStream, .authenticate, .subscribe, .relay, .capabilities, .calibration:
        break
    }
}

func fuzzPhrase(_ text: String) {
    for mode in [PhraseParser.Mode.command, .routineAction] {
        if let actions = try? PhraseParser.parse(text, in: house, mode: mode) {
            simulate(actions)
            for action in actions { _ = try? RoutineAction(json: action.json, model: nil) }
        }
    }
}

/// Runs actions on a copy of the house, as a dry run does.
func simulate(_ actions: [RoutineAction]) {
    var model = house
    var counter = 0
    for action in actions {
        if case .wait = action { continue }
        if case .run = action { continue }
        _ = RoutineEngine.describe(action, in: model)
        _ = try? RoutineEngine.perform(action, model: { model }) { command throws(ControlError) in
            model = try model.applying(command, at: WallTime(sec: 3)) {
                counter += 1
                return "run\(counter)"
            }.model
        }
        check(model, after: action.text)
    }
}

func check(_ model: SystemModel, after what: String) {
    let problems = model.violations
    if !problems.isEmpty { fatalError("invariants broken after \(what): \(problems)") }
}
