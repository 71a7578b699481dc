/// Which part of a multichannel signal every output channel should carry.
public enum ChannelSelection: Sendable, Equatable {
    /// The first channel (left).
    case left
    /// The second channel (right); a mono signal's only channel.
    case right
    /// The mean of all channels.
    case mix
}

/// Rewrites interleaved PCM so that every channel carries the same selected signal: how a
/// speaker that cannot pick a channel itself plays one side of a stereo pair.
public enum PCMChannelMap {
    /// Maps `pcm` (interleaved little-endian frames of `format`) in place. A trailing partial
    /// frame is left alone; mono input is unchanged.
    public static func apply(_ selection: ChannelSelection, to pcm: UnsafeMutableRawBufferPointer, format: SampleFormat) {
        let channels = format.channels
        guard channels > 1 else { return }
        let frames = pcm.count / format.bytesPerFrame
        switch format.bytesPerSample {
        case 1: map(pcm.bindMemory(to: UInt8.self), frames: frames, channels: channels, selection: selection, center: 128)
        case 2: map(pcm.bindMemory(to: Int16.self), frames: frames, channels: channels, selection: selection, center: 0)
        default: map(pcm.bindMemory(to: Int32.self), frames: frames, channels: channels, selection: selection, center: 0)
        }
    }

    private static func map<Sample: FixedWidthInteger>(
        _ samples: UnsafeMutableBufferPointer<Sample>, frames: Int, channels: Int, selection: ChannelSelection, center: Int64
    ) {
        for frame in 0..<frames {
            let base = frame * channels
            let value: Sample
            switch selection {
            case .left:
                value = samples[base]
            case .right:
                value = samples[base + 1]
            case .mix:
                var sum: Int64 = 0
                for channel in 0..<channels { sum += Int64(Sample(littleEndian: samples[base + channel])) - center }
                value = Sample(truncatingIfNeeded: sum / Int64(channels) + center).littleEndian
            }
            for channel in 0..<channels { samples[base + channel] = value }
        }
    }
}
