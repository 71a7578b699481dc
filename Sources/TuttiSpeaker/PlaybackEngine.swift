import Foundation
import Logging
import Synchronization
import TuttiAudio
import TuttiOutputs
import TuttiSync
import TuttiTiming

/// The speaker's real-time side: a thread of its own that owns the output and the
/// ``PlayoutScheduler`` and, once per output period, renders what should leave the DAC.
///
/// It opens the output when the first stream format arrives and re-opens it when the format
/// changes; until then, and whenever there is nothing due, it plays silence (the output keeps
/// running through server restarts). It takes new chunks, the clock mapping and settings from
/// the ``PlayoutMailbox`` each period; volume and mute are applied in software here. An output
/// that fails is closed, logged, and opened again a second later.
final class PlaybackEngine: @unchecked Sendable {
    private let outputSpec: String
    private let clock: any TimeSource
    private let mailbox: PlayoutMailbox
    private let status: SpeakerStatus
    private let logger: Logger
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    init(outputSpec: String, clock: any TimeSource, mailbox: PlayoutMailbox, status: SpeakerStatus, logger: Logger) {
        self.outputSpec = outputSpec
        self.clock = clock
        self.mailbox = mailbox
        self.status = status
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in
            requestPreciseWakeups()
            run()
            finished.signal()
        }
        thread.name = "tutti-playout"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops the thread after its current period and closes (finalizes) the output.
    func stop() {
        stopped.withLock { $0 = true }
        finished.wait()
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    private func run() {
        var output: (any AudioOutput)?
        var scheduler: PlayoutScheduler?
        var formatGeneration = -1
        var flushGeneration = 0
        var mapping: ClockMapping?
        var floats: [Float] = []
        var samples: [Int16] = []
        let slew = LatencySlew()
        defer { output?.close() }

        while !isStopped {
            let delivery = mailbox.take()
            if let format = delivery.format, delivery.formatGeneration != formatGeneration {
                if output == nil || output!.format.rate != format.rate || output!.format.channels != format.channels {
                    output?.close()
                    output = nil
                    do {
                        output = try OutputFactory.open(outputSpec, format: format, clock: clock, logger: logger)
                        logger.info("output \(outputSpec) open for \(format)")
                    } catch {
                        logger.error("cannot open output \(outputSpec): \(error); retrying in 1 s")
                        Thread.sleep(forTimeInterval: 1)
                        continue
                    }
                }
                formatGeneration = delivery.formatGeneration
                scheduler = PlayoutScheduler(configuration: .init(sampleRate: format.rate, channels: format.channels))
                floats = []  // sizes the buffers (and the new scheduler's) at the next period
                flushGeneration = delivery.flushGeneration
            }
            guard let device = output, var playout = scheduler else {
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            scheduler = nil  // `playout` holds the only reference: mutating it copies nothing
            if delivery.flushGeneration != flushGeneration {
                playout.flush()
                flushGeneration = delivery.flushGeneration
            }
            if let latest = delivery.mapping { mapping = latest }
            let settings = delivery.settings
            playout.buffer = Nanos(settings.bufferMs) * .nanosPerMillisecond
            // A small latency change (a Bluetooth speaker's delay wandering) is slewed, not jumped.
            let period = Nanos(device.periodFrames) * .nanosPerSecond / Nanos(device.format.rate)
            playout.latency = slew.next(
                from: playout.latency, toward: Nanos(settings.latencyMicroseconds) * 1000, period: period, playing: playout.isPlaying)
            for chunk in delivery.chunks { _ = playout.add(chunk) }

            do {
                let period = try device.waitForNextPeriod()
                let count = period.frames * device.format.channels
                if floats.count != count {
                    // Sized once per output (periods keep their length): no allocation per period.
                    floats = [Float](repeating: 0, count: count)
                    playout.reserveCapacity(frames: period.frames)
                }
                let report = floats.withUnsafeMutableBufferPointer { buffer in
                    playout.render(into: buffer, frames: period.frames, localNow: period.localNow, outputDelay: period.delay, clock: mapping)
                }
                status.update(
                    statistics: playout.statistics, report: report,
                    bufferMs: Double(playout.bufferedFrames) * 1000 / Double(device.format.rate), outputDelay: period.delay)
                convert(floats, into: &samples, channels: device.format.channels, settings: settings)
                try samples.withUnsafeBufferPointer { buffer throws(OutputError) in try device.write(buffer) }
            } catch {
                logger.error("output \(outputSpec) failed: \(error); reopening in 1 s")
                device.close()
                output = nil
                formatGeneration = -1
                Thread.sleep(forTimeInterval: 1)
            }
            scheduler = playout
        }
    }

    /// Applies volume (and the trim under it), mute and the channel selection (a stereo pair's
    /// side on every output channel) and converts to s16 (exact for 16-bit sources at volume 100).
    private func convert(_ floats: [Float], into samples: inout [Int16], channels: Int, settings: PlaybackSettings) {
        if samples.count != floats.count { samples = [Int16](repeating: 0, count: floats.count) }
        let gain = settings.muted ? 0 : Self.gain(volume: settings.volume, trimDB: settings.trimDB)
        let toS16 = { (value: Float) in Int16(max(-32768, min(32767, (value * gain * 32768).rounded()))) }
        guard let selection = settings.channel, channels > 1 else {
            for i in 0..<floats.count { samples[i] = toS16(floats[i]) }
            return
        }
        var frame = 0
        while frame + channels <= floats.count {
            let value: Float =
                switch selection {
                case .left: floats[frame]
                case .right: floats[frame + 1]
                case .mix: (0..<channels).reduce(Float(0)) { $0 + floats[frame + $1] } / Float(channels)
                }
            let sample = toS16(value)
            for channel in 0..<channels { samples[frame + channel] = sample }
            frame += channels
        }
    }

    /// Volume 0...100 to a gain: 100 is exactly 1; below that a 60 dB logarithmic range, 0
    /// silent. A trim (dB, ≤ 0) lowers it further.
    static func gain(volume: Int, trimDB: Double = 0) -> Float {
        guard volume > 0 else { return 0 }
        let decibels = Double(min(volume, 100) - 100) * 0.6 + min(0, trimDB)
        return decibels == 0 ? 1 : Float(pow(10, decibels / 20))
    }
}
