import Prometheus
import Synchronization
import TuttiControl

/// The server's Prometheus metrics (`GET /metrics` on the HTTP port): each speaker's own sync
/// report, and how many speakers and control clients are connected.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let series = Mutex<[String: [Gauge]]>([:])

    private static let descriptors: [(name: String, unit: String, help: String, value: @Sendable (SyncStatus) -> Double)] = [
        ("speaker_clock_locked", "", "1 when the speaker's clock is locked to the server's", { $0.locked ? 1 : 0 }),
        ("speaker_clock_error", "microseconds", "The speaker's estimate of its clock offset's standard error", { $0.clockErrorMicroseconds }),
        ("speaker_clock_rate", "ppm", "The server clock's rate relative to the speaker's", { $0.ratePPM }),
        ("speaker_buffer", "milliseconds", "Audio the speaker holds ahead of its output", { $0.bufferMs }),
        ("speaker_output_delay", "milliseconds", "The speaker's output delay (sound card, Bluetooth)", { $0.outputDelayMs }),
        ("speaker_underruns", "", "Underruns since the speaker started", { Double($0.underruns) }),
        ("speaker_hard_syncs", "", "Hard resynchronizations since the speaker started", { Double($0.hardSyncs) }),
        ("speaker_playout_error", "microseconds", "The playout error the speaker's resampler corrects", { $0.playoutErrorMicroseconds }),
    ]

    /// Records a speaker's latest sync report.
    func record(speaker: String, status: SyncStatus) {
        let gauges = series.withLock { series in
            if let gauges = series[speaker] { return gauges }
            let made = Self.descriptors.map { descriptor in
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(namespace: "tutti", metricName: descriptor.name, unitName: descriptor.unit, helpText: descriptor.help),
                    labels: [("speaker", speaker)])
            }
            series[speaker] = made
            return made
        }
        for (gauge, descriptor) in zip(gauges, Self.descriptors) { gauge.set(to: descriptor.value(status)) }
    }

    /// Drops a disconnected speaker's series.
    func forget(speaker: String) {
        let gauges = series.withLock { $0.removeValue(forKey: speaker) } ?? []
        for gauge in gauges { registry.unregisterGauge(gauge) }
    }

    /// The text exposition format.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
