#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TuttiAudio

/// Plays the PCM of a WAV file, once or looping.
///
/// The header is read with ``WAVHeader``. Samples are delivered as the stream carries them:
/// 16- and 32-bit data pass through unchanged, packed 3-byte 24-bit data is widened to 4-byte
/// containers (sign-extended), and 8-bit data, unsigned in WAV files, is made signed (the sign bit
/// flipped) since Snapcast streams carry 8-bit samples signed. Reads never block, so the timeout
/// is not used. A data chunk whose declared size is 0, 0xFFFFFFFF or past the end of the file
/// (a stream that was never finalized) is taken to run to the end of the file.
public final class WAVFileSource: PCMSource {
    public let format: SampleFormat
    /// The file's path.
    public let path: String
    /// Whether the source starts over at the end of the data instead of ending.
    public let loops: Bool
    /// The file's header.
    public let header: WAVHeader

    private enum Conversion { case none, signed8, widen24 }
    private var fd: Int32
    private let dataStart: Int64
    private let dataEnd: Int64
    private var position: Int64
    private let conversion: Conversion
    private var widened: [UInt8] = []
    private var widenedOffset = 0
    private let logger: Logger

    /// The largest header (including skipped chunks such as embedded cover art) the source reads.
    static let maximumHeaderBytes = 64 << 20

    /// Opens the WAV file at `path`.
    ///
    /// - Parameter requiredFormat: when not nil, the file's rate, bits and channels must equal it;
    ///   when nil, the source plays in the file's own format.
    /// - Throws: ``SourceError/unavailable(_:)`` when the file cannot be opened;
    ///   ``SourceError/badContent(_:)`` when it is not a usable WAV file or its format differs from
    ///   `requiredFormat` (the message names both).
    public init(path: String, loop: Bool, requiredFormat: SampleFormat?, logger: Logger) throws(SourceError) {
        self.path = path
        self.loops = loop
        var logger = logger
        logger[metadataKey: "source"] = "file:\(path)"
        self.logger = logger
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unavailable("cannot open \(path): \(POSIX.lastError)") }
        do throws(SourceError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw SourceError.unavailable("cannot inspect \(path): \(POSIX.lastError)") }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw SourceError.unavailable("\(path) is not a regular file") }
            let fileSize = Int64(info.st_size)
            let header = try Self.readHeader(fd: fd, fileSize: fileSize, path: path)
            if let requiredFormat, requiredFormat != header.format {
                throw SourceError.badContent("\(path) is \(header.format), the stream wants \(requiredFormat)")
            }
            self.header = header
            self.format = header.format
            let available = fileSize - Int64(header.dataOffset)
            var length = Int64(header.dataSize)
            if length == 0 || header.dataSize == WAVHeader.unknownSize || length > available { length = available }
            length -= length % Int64(header.bytesPerFrameInFile)
            dataStart = Int64(header.dataOffset)
            dataEnd = dataStart + max(0, length)
            position = dataStart
            conversion = switch (header.format.bits, header.bytesPerContainer) {
            case (8, _): .signed8
            case (24, 3): .widen24
            default: .none
            }
        } catch {
            POSIX.closeIfOpen(&fd)
            throw error
        }
        logger.info("opened WAV file", metadata: ["format": "\(format)", "bytes": "\(dataEnd - dataStart)", "loop": "\(loop)"])
    }

    deinit { close() }

    /// Copies the next bytes of sample data into `buffer`.
    ///
    /// At the end of the data: starts over when looping (an empty data chunk ends even then),
    /// else returns `.ended` from then on. Throws ``SourceError/unavailable(_:)`` when reading
    /// fails or the source is closed.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        guard fd >= 0 else { throw .unavailable("\(path) is closed") }
        guard buffer.count > 0 else { return .timedOut }
        if widenedOffset < widened.count { return .bytes(copyWidened(into: buffer)) }
        if position >= dataEnd {
            guard loops, dataEnd > dataStart else { return .ended }
            position = dataStart
            logger.debug("looping to the start of the data")
        }
        switch conversion {
        case .none, .signed8:
            let count = try readFile(into: buffer, upTo: Int(min(Int64(buffer.count), dataEnd - position)))
            if conversion == .signed8 {
                for index in 0..<count { buffer[index] ^= 0x80 }
            }
            return count > 0 ? .bytes(count) : .ended
        case .widen24:
            let packedBytes = Int(min(Int64(4096 * 3), dataEnd - position))
            var packed = [UInt8](repeating: 0, count: packedBytes)
            let result = packed.withUnsafeMutableBytes { readFileOrFail(into: $0, upTo: packedBytes) }
            let count = try result.get()
            let samples = count / 3
            guard samples > 0 else { return .ended }
            position -= Int64(count - samples * 3)  // re-read a partial sample next time
            widened = [UInt8](repeating: 0, count: samples * 4)
            for sample in 0..<samples {
                let high = packed[sample * 3 + 2]
                widened[sample * 4] = packed[sample * 3]
                widened[sample * 4 + 1] = packed[sample * 3 + 1]
                widened[sample * 4 + 2] = high
                widened[sample * 4 + 3] = high & 0x80 == 0 ? 0 : 0xFF
            }
            widenedOffset = 0
            return .bytes(copyWidened(into: buffer))
        }
    }

    public func close() {
        POSIX.closeIfOpen(&fd)
    }

    private func copyWidened(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, widened.count - widenedOffset)
        widened.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + widenedOffset, byteCount: count)
        }
        widenedOffset += count
        return count
    }

    /// `pread` at ``position``, advancing it; 0 when the file turned out shorter than its header said.
    private func readFile(into buffer: UnsafeMutableRawBufferPointer, upTo count: Int) throws(SourceError) -> Int {
        try readFileOrFail(into: buffer, upTo: count).get()
    }

    private func readFileOrFail(into buffer: UnsafeMutableRawBufferPointer, upTo count: Int) -> Result<Int, SourceError> {
        while true {
            let result = pread(fd, buffer.baseAddress, count, off_t(position))
            if result >= 0 {
                position += Int64(result)
                if result == 0 { position = dataEnd }
                return .success(result)
            }
            if errno != EINTR { return .failure(.unavailable("reading \(path) failed: \(POSIX.lastError)")) }
        }
    }

    /// Reads as much of the file's start as ``WAVHeader/parse(_:)`` asks for.
    private static func readHeader(fd: Int32, fileSize: Int64, path: String) throws(SourceError) -> WAVHeader {
        var wanted = Int(min(fileSize, 4096))
        while true {
            var bytes = [UInt8](repeating: 0, count: wanted)
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, 0) }
            guard count >= 0 else { throw .unavailable("reading \(path) failed: \(POSIX.lastError)") }
            bytes.removeLast(wanted - count)
            do {
                return try WAVHeader.parse(bytes)
            } catch .truncated(let needed) where needed <= fileSize && needed <= maximumHeaderBytes && needed > count {
                wanted = needed
            } catch {
                throw .badContent("\(path): \(error)")
            }
        }
    }
}
