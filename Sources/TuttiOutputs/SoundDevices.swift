#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiTiming

/// One place sound can go to or come from on this host: an ALSA PCM or a sound server's sink
/// or source, with the URI that uses it (an output for `tutti speaker --output`, a source for
/// `tutti server --source`).
public struct SoundDevice: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Codable { case output, input }
    /// `alsa` or `pulse` (PipeWire's pulse layer answers as `pulse`).
    public var api: String
    public var name: String
    public var description: String
    public var direction: Direction
    /// How Tutti names it: `alsa:hw:0,0` / `pulse:SINK` as an output, `alsa:///hw:0,0` /
    /// `pulse:///SOURCE` as a line-in source.
    public var uri: String
    /// A sound server's source that records a sink (`NAME.monitor`), not an input.
    public var isMonitor: Bool
    /// The sound server's sample rate and channels for it, where known.
    public var rate: Int?
    public var channels: Int?
    /// The Bluetooth codec a sound server's Bluetooth sink or source uses, where it says.
    public var bluetoothCodec: String?

    public init(api: String, name: String, description: String, direction: Direction, isMonitor: Bool = false,
                rate: Int? = nil, channels: Int? = nil, bluetoothCodec: String? = nil) {
        self.api = api
        self.name = name
        self.description = description
        self.direction = direction
        self.uri = direction == .output ? "\(api):\(name)" : "\(api):///\(name)"
        self.isMonitor = isMonitor
        self.rate = rate
        self.channels = channels
        self.bluetoothCodec = bluetoothCodec
    }
}

/// Lists this host's sound devices: ALSA's PCMs (`snd_device_name_hint`, what `aplay -L` and
/// `arecord -L` list) and a PulseAudio or PipeWire server's sinks and sources (libpulse's
/// introspection). Both libraries are loaded at run time; one that is missing, or a sound server
/// that does not answer, is an error for that part only.
public enum SoundDevices {
    /// ALSA's PCMs, inputs and outputs (a PCM that does both is listed twice).
    public static func alsa() throws(OutputError) -> [SoundDevice] {
        let library = try ALSAHints.shared.get()
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        let status = library.nameHint(-1, "pcm", &hints)
        guard status >= 0, let hints else { throw .deviceUnavailable(device: "alsa", reason: "cannot list PCMs (error \(status))") }
        defer { _ = library.freeHint(hints) }
        func text(_ hint: UnsafeMutableRawPointer, _ key: String) -> String? {
            guard let value = library.getHint(hint, key) else { return nil }
            defer { free(value) }
            return String(cString: value)
        }
        var devices: [SoundDevice] = []
        var index = 0
        while let hint = hints[index] {
            index += 1
            guard let name = text(hint, "NAME") else { continue }
            // DESC is one or two lines ("card name\ndevice"); IOID is "Input", "Output" or absent (both).
            let description = (text(hint, "DESC") ?? name).split(separator: "\n").joined(separator: ", ")
            let io = text(hint, "IOID")
            if io != "Input" { devices.append(SoundDevice(api: "alsa", name: name, description: description, direction: .output)) }
            if io != "Output" { devices.append(SoundDevice(api: "alsa", name: name, description: description, direction: .input)) }
        }
        return devices
    }

    /// The sinks and sources of the PulseAudio or PipeWire server at `server` (nil: the default,
    /// or `PULSE_SERVER`), waiting at most `timeoutMilliseconds` for it.
    public static func pulse(server: String? = nil, timeoutMilliseconds: Int = 2000) throws(OutputError) -> [SoundDevice] {
        try PulseIntrospection(library: try PulseLibrary.shared.get()).devices(server: server, timeoutMilliseconds: timeoutMilliseconds)
    }
}

/// libasound's device-name hints (`alsa/control.h`).
struct ALSAHints: @unchecked Sendable {
    typealias NameHint = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutableRawPointer?>?>) -> Int32
    typealias GetHint = @convention(c) (UnsafeRawPointer, UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar>?
    typealias FreeHint = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32
    let nameHint: NameHint
    let getHint: GetHint
    let freeHint: FreeHint

    init() throws(OutputError) {
        let library = try DynamicLibrary(name: ALSALibrary.libraryName, package: ALSALibrary.packageName)
        nameHint = try library.function("snd_device_name_hint", as: NameHint.self)
        getHint = try library.function("snd_device_name_get_hint", as: GetHint.self)
        freeHint = try library.function("snd_device_name_free_hint", as: FreeHint.self)
    }

    static let shared: Result<ALSAHints, OutputError> = Result { () throws(OutputError) in try ALSAHints() }
}

/// The libpulse functions that list a server's sinks and sources: a private `pa_mainloop`
/// iterated on the calling thread, a context, and the two info-list operations.
///
/// `pa_sink_info` and `pa_source_info` are read at their C offsets (LP64, `pulse/introspect.h`;
/// unchanged since PulseAudio 1.0): name 0, index 8, description 16, sample spec 24 (rate 28,
/// channels 32), the monitor index 308 (`monitor_source` / `monitor_of_sink`), proplist 344.
struct PulseLibrary: @unchecked Sendable {
    typealias MainloopNew = @convention(c) () -> OpaquePointer?
    typealias MainloopAPI = @convention(c) (OpaquePointer) -> OpaquePointer?
    typealias MainloopIterate = @convention(c) (OpaquePointer, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    typealias MainloopFree = @convention(c) (OpaquePointer) -> Void
    typealias ContextNew = @convention(c) (OpaquePointer, UnsafePointer<CChar>) -> OpaquePointer?
    typealias ContextConnect = @convention(c) (OpaquePointer, UnsafePointer<CChar>?, Int32, UnsafeRawPointer?) -> Int32
    typealias ContextState = @convention(c) (OpaquePointer) -> Int32
    typealias ContextVoid = @convention(c) (OpaquePointer) -> Void
    typealias InfoCallback = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int32, UnsafeMutableRawPointer?) -> Void
    typealias InfoList = @convention(c) (OpaquePointer, InfoCallback, UnsafeMutableRawPointer?) -> OpaquePointer?
    typealias OperationState = @convention(c) (OpaquePointer) -> Int32
    typealias OperationUnref = @convention(c) (OpaquePointer) -> Void
    typealias ProplistGets = @convention(c) (OpaquePointer, UnsafePointer<CChar>) -> UnsafePointer<CChar>?

    static let contextReady: Int32 = 4, contextFailed: Int32 = 5, contextTerminated: Int32 = 6
    static let operationRunning: Int32 = 0
    static let contextNoAutospawn: Int32 = 1

    let mainloopNew: MainloopNew
    let mainloopAPI: MainloopAPI
    let mainloopIterate: MainloopIterate
    let mainloopFree: MainloopFree
    let contextNew: ContextNew
    let contextConnect: ContextConnect
    let contextState: ContextState
    let contextDisconnect: ContextVoid
    let contextUnref: ContextVoid
    let sinkInfoList: InfoList
    let sourceInfoList: InfoList
    let operationState: OperationState
    let operationUnref: OperationUnref
    let proplistGets: ProplistGets

    init(name: String = "libpulse.so.0") throws(OutputError) {
        let library = try DynamicLibrary(name: name, package: "libpulse0")
        mainloopNew = try library.function("pa_mainloop_new", as: MainloopNew.self)
        mainloopAPI = try library.function("pa_mainloop_get_api", as: MainloopAPI.self)
        mainloopIterate = try library.function("pa_mainloop_iterate", as: MainloopIterate.self)
        mainloopFree = try library.function("pa_mainloop_free", as: MainloopFree.self)
        contextNew = try library.function("pa_context_new", as: ContextNew.self)
        contextConnect = try library.function("pa_context_connect", as: ContextConnect.self)
        contextState = try library.function("pa_context_get_state", as: ContextState.self)
        contextDisconnect = try library.function("pa_context_disconnect", as: ContextVoid.self)
        contextUnref = try library.function("pa_context_unref", as: ContextVoid.self)
        sinkInfoList = try library.function("pa_context_get_sink_info_list", as: InfoList.self)
        sourceInfoList = try library.function("pa_context_get_source_info_list", as: InfoList.self)
        operationState = try library.function("pa_operation_get_state", as: OperationState.self)
        operationUnref = try library.function("pa_operation_unref", as: OperationUnref.self)
        proplistGets = try library.function("pa_proplist_gets", as: ProplistGets.self)
    }

    static let shared: Result<PulseLibrary, OutputError> = Result { () throws(OutputError) in try PulseLibrary() }
}

/// One listing: what the info callbacks collect, reached through their `userdata`.
private final class PulseIntrospection {
    let library: PulseLibrary
    var devices: [SoundDevice] = []
    var direction = SoundDevice.Direction.output

    init(library: PulseLibrary) { self.library = library }

    func devices(server: String?, timeoutMilliseconds: Int) throws(OutputError) -> [SoundDevice] {
        guard let loop = library.mainloopNew() else { throw .soundServerUnavailable(reason: "cannot create a PulseAudio main loop") }
        defer { library.mainloopFree(loop) }
        guard let api = library.mainloopAPI(loop), let context = library.contextNew(api, "Tutti") else {
            throw .soundServerUnavailable(reason: "cannot create a PulseAudio context")
        }
        defer { library.contextUnref(context) }
        let clock = MonotonicClock()
        let end = clock.now() + Nanos(timeoutMilliseconds) * 1_000_000
        var passed: Bool { clock.now() >= end }
        guard library.contextConnect(context, server, PulseLibrary.contextNoAutospawn, nil) >= 0 else {
            throw .soundServerUnavailable(reason: "no sound server answers\(server.map { " at \($0)" } ?? "")")
        }
        defer { library.contextDisconnect(context) }
        while true {
            let state = library.contextState(context)
            if state == PulseLibrary.contextReady { break }
            if state == PulseLibrary.contextFailed || state == PulseLibrary.contextTerminated || passed {
                throw .soundServerUnavailable(reason: "no sound server answers\(server.map { " at \($0)" } ?? "")")
            }
            _ = library.mainloopIterate(loop, 0, nil)
            usleep(1000)
        }
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        for (direction, list) in [(SoundDevice.Direction.output, library.sinkInfoList), (.input, library.sourceInfoList)] {
            self.direction = direction
            guard let operation = list(context, { _, info, eol, userdata in
                guard eol == 0, let info, let userdata else { return }
                Unmanaged<PulseIntrospection>.fromOpaque(userdata).takeUnretainedValue().add(info)
            }, userdata) else { throw .soundServerUnavailable(reason: "the sound server refused to list its devices") }
            defer { library.operationUnref(operation) }
            while library.operationState(operation) == PulseLibrary.operationRunning {
                if passed { throw .soundServerUnavailable(reason: "the sound server did not list its devices in time") }
                _ = library.mainloopIterate(loop, 0, nil)
                usleep(1000)
            }
        }
        return devices
    }

    fileprivate func add(_ info: UnsafeRawPointer) {
        func string(at offset: Int) -> String? {
            info.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self).map { String(cString: $0) }
        }
        guard let name = string(at: 0) else { return }
        let rate = Int(info.load(fromByteOffset: 28, as: UInt32.self))
        let channels = Int(info.load(fromByteOffset: 32, as: UInt8.self))
        let monitor = info.load(fromByteOffset: 308, as: UInt32.self)
        var codec: String?
        if let proplist = info.load(fromByteOffset: 344, as: OpaquePointer?.self) {
            // PipeWire says api.bluez5.codec, PulseAudio 15+ bluetooth.codec.
            for key in ["api.bluez5.codec", "bluetooth.codec"] where codec == nil {
                codec = library.proplistGets(proplist, key).map { String(cString: $0) }
            }
        }
        devices.append(SoundDevice(
            api: "pulse", name: name, description: string(at: 16) ?? name, direction: direction,
            // A sink's monitor_source is its monitor (not a monitor itself); a source's monitor_of_sink says it is one.
            isMonitor: direction == .input && monitor != UInt32.max,
            rate: rate > 0 ? rate : nil, channels: channels > 0 ? channels : nil, bluetoothCodec: codec?.uppercased()))
    }
}
