#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened at run time with `dlopen`, so that building Tutti needs neither
/// ALSA's nor PulseAudio's headers, and a machine without them still runs every other output.
///
/// Libraries are never closed: their function pointers are cached for the life of the process.
/// `@unchecked Sendable`: the handle is an immutable address that `dlsym` may use from any thread.
struct DynamicLibrary: @unchecked Sendable {
    /// The file name passed to `dlopen`, e.g. `libasound.so.2`.
    let name: String
    /// The Debian package that installs it, for error messages.
    let package: String
    private let handle: UnsafeMutableRawPointer

    /// Opens `name` (searched on the usual library path).
    ///
    /// - Throws: ``OutputError/libraryMissing(name:package:)`` when it cannot be loaded.
    init(name: String, package: String) throws(OutputError) {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw .libraryMissing(name: name, package: package)
        }
        self.name = name
        self.package = package
        self.handle = handle
    }

    /// The C function `symbol` as a `@convention(c)` function of type `T`.
    ///
    /// The type is the caller's promise: it must match the C declaration exactly.
    /// - Throws: ``OutputError/librarySymbolMissing(library:symbol:)`` when the library lacks it.
    func function<T>(_ symbol: String, as type: T.Type) throws(OutputError) -> T {
        guard let address = dlsym(handle, symbol) else {
            throw .librarySymbolMissing(library: name, symbol: symbol)
        }
        return unsafeBitCast(address, to: type)
    }
}
