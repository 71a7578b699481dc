import Foundation
import NIOCore
import Testing
import TuttiAudio
import TuttiFLAC
import TuttiTestSupport
import TuttiWire

/// Tutti's FLAC decoder decodes a real snapserver's FLAC stream (codec header + chunks, as they
/// come off the wire) bit-exactly: the decoded samples are the counting signal fed to its pipe.
@Suite(.enabled(if: Peers.snapserver != nil, "needs snapserver (apt-get install snapserver)"))
struct SnapserverFLACDecodeTests {
    @Test func decodesSnapserversFLACStreamBitExactly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let fifo = "\(directory.path)/fifo"
        let port = freePort()
        try FileManager.default.createDirectory(atPath: "\(directory.path)/data", withIntermediateDirectories: true)
        try """
            [server]
            datadir = \(directory.path)/data
            [stream]
            port = \(port)
            source = pipe://\(fifo)?name=default&sampleformat=48000:16:2&codec=flac
            buffer = 1000
            [tcp]
            enabled = false
            [http]
            enabled = false
            """.write(toFile: "\(directory.path)/server.ini", atomically: true, encoding: .utf8)
        let server = try ChildProcess(Peers.snapserver!, ["-c", "\(directory.path)/server.ini"])
        defer { server.stop() }
        try #require(waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: fifo) && canConnect(port: port) })
        let writer = FIFOWriter(path: fifo, totalFrames: 48_000 * 30)
        defer { writer.stop() }

        let speaker = try RawSpeaker(port: port)
        speaker.hello(id: "flac-reader")
        let frames = try speaker.readFrames(seconds: 3)
        var decoder: FLACDecoder?
        var pcm: [UInt8] = []
        for frame in frames {
            switch frame.message {
            case .codecHeader(let header):
                #expect(header.codec == "flac")
                decoder = try FLACDecoder(header: Array(header.payload.readableBytesView))
            case .wireChunk(let chunk):
                guard var current = decoder else { continue }  // chunks before the header are ignored
                let samples = try chunk.data.withUnsafeReadableBytes { try current.decode($0) }
                decoder = current
                for sample in samples { withUnsafeBytes(of: Int16((sample * 32768).rounded()).littleEndian) { pcm.append(contentsOf: $0) } }
            default:
                break
            }
        }
        let analysis = CounterSignal.analyze(pcm)
        #expect(decoder != nil, "no FLAC codec header")
        #expect(analysis.firstBreak == nil, "\(analysis)")
        #expect(analysis.signalFrames >= 48_000, "\(analysis)")
    }
}
