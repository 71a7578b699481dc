import Synchronization
import TuttiAudio
import TuttiSync

/// What the server asked for, as the playout thread applies it.
struct PlaybackSettings: Equatable, Sendable {
    var bufferMs = 1000
    /// Server-set latency plus this speaker's own, in µs.
    var latencyMicroseconds = 0
    var volume = 100
    /// A level trim under the volume, dB (≤ 0).
    var trimDB = 0.0
    var muted = false
    /// The channel the server asked this speaker to play (a stereo pair's side); nil: as is.
    var channel: ChannelSelection?
}

/// Hands decoded chunks, the clock mapping and settings from the network side to the playout
/// thread. Every call holds the lock only to append or swap, so the real-time thread never
/// waits behind decoding or estimation.
final class PlayoutMailbox: Sendable {
    struct Delivery {
        var format: SampleFormat?
        var formatGeneration = 0
        var chunks: [AudioChunk] = []
        var mapping: ClockMapping?
        var settings = PlaybackSettings()
        var flushGeneration = 0
        var extraLatencyMicroseconds = 0
    }

    private let state = Mutex(Delivery())

    /// A new stream format (a CodecHeader arrived): the playout thread re-opens its output if
    /// the format differs and drops what it had buffered.
    func post(format: SampleFormat) {
        state.withLock {
            $0.format = format
            $0.formatGeneration += 1
            $0.flushGeneration += 1
            $0.chunks.removeAll()
        }
    }

    func post(_ chunk: AudioChunk) { state.withLock { $0.chunks.append(chunk) } }

    func post(mapping: ClockMapping) { state.withLock { $0.mapping = mapping } }

    func post(settings: PlaybackSettings) { state.withLock { $0.settings = settings } }

    /// The output path's own extra latency (µs), added to what the server sets: the speaker's
    /// configuration, or a Bluetooth speaker's reported delay as it changes.
    var extraLatencyMicroseconds: Int {
        get { state.withLock { $0.extraLatencyMicroseconds } }
        set {
            state.withLock { delivery in
                delivery.settings.latencyMicroseconds += newValue - delivery.extraLatencyMicroseconds
                delivery.extraLatencyMicroseconds = newValue
            }
        }
    }

    /// Settings from the server's ServerSettings: its latency plus the extra.
    func post(serverSettings settings: PlaybackSettings) {
        state.withLock { delivery in
            delivery.settings = settings
            delivery.settings.latencyMicroseconds += delivery.extraLatencyMicroseconds
        }
    }

    var settings: PlaybackSettings { state.withLock { $0.settings } }

    /// Takes the pending chunks (leaving the rest of the state in place).
    func take() -> Delivery {
        state.withLock { delivery in
            let taken = delivery
            delivery.chunks = []  // the taken array keeps the only reference: no copy
            return taken
        }
    }
}
