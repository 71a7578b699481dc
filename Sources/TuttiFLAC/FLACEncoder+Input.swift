import TuttiAudio

/// Splitting interleaved PCM into the workspace's per-channel slots.
extension FLACEncoderWorkspace {
    /// Deinterleaves `count` frames of little-endian PCM in `format`'s container layout into
    /// the channel slots: 8-bit samples are signed bytes, 16-bit ones two bytes, 24-bit ones the
    /// low three bytes of a 4-byte container (the top byte is ignored and the value sign
    /// extended), 32-bit ones four bytes.
    func load(pcm: UnsafeRawPointer, count: Int, format: SampleFormat) {
        let channels = format.channels
        switch format.bytesPerSample {
        case 1:
            for c in 0..<channels {
                let slot = samples(c)
                for i in 0..<count { slot[i] = Int32(Int8(bitPattern: pcm.load(fromByteOffset: i * channels + c, as: UInt8.self))) }
            }
        case 2:
            if channels == 2 {
                let left = samples(0), right = samples(1)
                for i in 0..<count {
                    let pair = UInt32(littleEndian: pcm.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                    left[i] = Int32(Int16(truncatingIfNeeded: pair))
                    right[i] = Int32(Int16(truncatingIfNeeded: pair >> 16))
                }
                return
            }
            for c in 0..<channels {
                let slot = samples(c)
                for i in 0..<count {
                    slot[i] = Int32(Int16(littleEndian: pcm.loadUnaligned(fromByteOffset: (i * channels + c) * 2, as: Int16.self)))
                }
            }
        default:
            let extend = format.bits < 32 ? Int32(32 - format.bits) : 0
            for c in 0..<channels {
                let slot = samples(c)
                for i in 0..<count {
                    let raw = Int32(littleEndian: pcm.loadUnaligned(fromByteOffset: (i * channels + c) * 4, as: Int32.self))
                    slot[i] = (raw << extend) >> extend
                }
            }
        }
    }

    /// Deinterleaves `count` frames of `channels` Int32 samples (already at their bit depth).
    func load(samples interleaved: UnsafePointer<Int32>, count: Int) {
        for c in 0..<channels {
            let slot = samples(c)
            for i in 0..<count { slot[i] = interleaved[i * channels + c] }
        }
    }
}
