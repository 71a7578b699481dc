import NIOConcurrencyHelpers
import TuttiAudio
import TuttiSources

/// What a speaker plays during a calibration run: silence until the frame the run starts at
/// (set once the stream's first timestamp is known, so that every speaker's track starts at
/// the same server time), then its track — its own test bursts at the plan's times — then
/// silence. Stereo 48 kHz; read at the pace of the stream like any source.
final class CalibrationSource: PCMSource, @unchecked Sendable {
    let format = SampleFormat.cd48k
    private let track: [Int16]
    private let state = NIOLockedValueBox<(start: Int64?, position: Int64)>((nil, 0))

    /// - Parameter track: mono samples in −1…1 at 48 kHz.
    init(track: [Float]) {
        self.track = track.map { Int16(max(-1, min(1, $0)) * 32_767) }
    }

    /// The track starts at this frame of the stream (frame 0: its first chunk).
    func begin(atFrame frame: Int64) {
        state.withLockedValue { $0.start = frame }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(SourceError) -> SourceRead {
        let frames = buffer.count / 4
        guard frames > 0 else { return .timedOut }
        let (start, position) = state.withLockedValue { state in
            defer { state.position += Int64(frames) }
            return (state.start, state.position)
        }
        for index in 0..<frames {
            var sample: Int16 = 0
            if let start {
                let offset = position + Int64(index) - start
                if offset >= 0, offset < track.count { sample = track[Int(offset)] }
            }
            buffer.storeBytes(of: sample.littleEndian, toByteOffset: index * 4, as: Int16.self)
            buffer.storeBytes(of: sample.littleEndian, toByteOffset: index * 4 + 2, as: Int16.self)
        }
        return .bytes(frames * 4)
    }

    func close() {}
}
