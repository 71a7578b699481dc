import TuttiAudio
import TuttiFLAC
import TuttiOpus

/// Makes the decoder a CodecHeader names: `pcm`, `flac` or `opus`. A codec the speaker cannot
/// play is a typed error; the speaker logs it and stays silent until the codec changes.
enum StreamDecoders {
    static func make(codec: String, header: [UInt8]) throws(DecoderError) -> any AudioDecoder {
        switch codec {
        case "pcm": try PCMDecoder(header: header)
        case "flac": try FLACDecoder(header: header)
        case "opus": try OpusDecoder(header: header)
        default: throw .unsupportedCodec(codec)
        }
    }
}
