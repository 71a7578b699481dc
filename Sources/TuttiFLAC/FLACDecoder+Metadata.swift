/// The start of a FLAC stream: the `fLaC` marker and the metadata blocks before the first
/// frame (RFC 9639, section 8).
///
/// Each block has a 4-byte header (last-block flag, 7-bit type, 24-bit length). STREAMINFO
/// (type 0) must come first; PADDING, APPLICATION, SEEKTABLE, VORBIS_COMMENT, CUESHEET,
/// PICTURE and reserved types are skipped. Snapcast's FLAC codec header is exactly these
/// bytes, so the same parser reads a file's head and a CodecHeader payload.
public struct FLACMetadata: Equatable, Sendable {
    /// The stream's STREAMINFO.
    public var streamInfo: FLACStreamInfo
    /// The type of every metadata block, in order (STREAMINFO's 0 first).
    public var blockTypes: [UInt8]
    /// Bytes from the marker to the first frame: where audio starts.
    public var audioOffset: Int
    /// False when the bytes ended after a whole block whose last-block flag was clear (a codec
    /// header may be cut there); the audio would still start at ``audioOffset``.
    public var sawLastBlock: Bool

    /// Parses the marker and metadata blocks at the start of `bytes`.
    ///
    /// Throws ``FLACError/missingMarker`` without `fLaC`, ``FLACError/badMetadata(_:)`` when
    /// STREAMINFO is not first (or repeats) or a block uses the invalid type 127, and
    /// ``FLACError/endOfData(_:)`` when a block is cut off. Ending right after a whole block is
    /// accepted (see ``sawLastBlock``).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(FLACError) -> FLACMetadata {
        guard bytes.count >= 4 else {
            if bytes.elementsEqual("fLaC".utf8.prefix(bytes.count)) { throw .endOfData("stream marker is cut off") }
            throw .missingMarker
        }
        guard bytes[0] == 0x66, bytes[1] == 0x4C, bytes[2] == 0x61, bytes[3] == 0x43 else { throw .missingMarker }
        var position = 4
        var streamInfo: FLACStreamInfo?
        var types: [UInt8] = []
        var last = false
        while !last {
            if position == bytes.count, let streamInfo {
                return FLACMetadata(streamInfo: streamInfo, blockTypes: types, audioOffset: position, sawLastBlock: false)
            }
            guard bytes.count - position >= 4 else { throw .endOfData("metadata block header is cut off") }
            last = bytes[position] & 0x80 != 0
            let type = bytes[position] & 0x7F
            let length = Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            position += 4
            guard bytes.count - position >= length else {
                throw .endOfData("metadata block of type \(type) needs \(length) bytes, \(bytes.count - position) left")
            }
            switch type {
            case 0:
                guard streamInfo == nil else { throw .badMetadata("a second STREAMINFO block") }
                guard length == FLACStreamInfo.byteCount else { throw .badMetadata("STREAMINFO is \(length) bytes, not 34") }
                streamInfo = try FLACStreamInfo(parsing: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
            case 127:
                throw .badMetadata("metadata block type 127 is invalid")
            default:
                guard streamInfo != nil else { throw .badMetadata("first metadata block is type \(type), not STREAMINFO") }
            }
            types.append(type)
            position += length
        }
        guard let streamInfo else { throw .badMetadata("no STREAMINFO block") }
        return FLACMetadata(streamInfo: streamInfo, blockTypes: types, audioOffset: position, sawLastBlock: true)
    }

    /// Parses the marker and metadata blocks at the start of `bytes`; see ``parse(_:)-(UnsafeRawBufferPointer)``.
    public static func parse(_ bytes: [UInt8]) throws(FLACError) -> FLACMetadata {
        let result: Result<FLACMetadata, FLACError> = bytes.withUnsafeBytes { raw in
            do throws(FLACError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension FLACFrameDecoder {
    /// The offset of the first plausible frame at or after `start`: a sync code followed by a
    /// header whose CRC-8 checks and which agrees with STREAMINFO. Nil when there is none.
    func nextFrameStart(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = max(start, 0)
        while i + 1 < bytes.count {
            if bytes[i] == 0xFF, bytes[i + 1] & 0xFE == 0xF8,
                let header = try? FLACFrameHeader.parse(bytes, at: i, streamInfo: streamInfo),
                streamInfo.map({ header.channels == $0.channels && header.bitsPerSample == $0.bitsPerSample }) ?? true
            {
                return i
            }
            i += 1
        }
        return nil
    }
}
