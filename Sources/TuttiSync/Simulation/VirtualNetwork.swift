import TuttiTiming

/// A simulated one-way path: a fixed floor, exponential jitter, rare large spikes and loss.
///
/// The defaults are the Wi-Fi-like network of the speaker issue: 1.5 ms floor, 5 ms mean
/// jitter in each direction, 1 % of messages delayed by a further 100 ms, 1 % of Time messages lost.
public struct VirtualNetwork: Hashable, Sendable {
    /// The smallest one-way delay.
    public var floor: Nanos = 1_500_000
    /// Mean of the exponential jitter added to every message.
    public var meanJitter: Nanos = 5 * .nanosPerMillisecond
    /// Probability of a spike.
    public var spikeProbability: Double = 0.01
    /// Extra delay of a spike.
    public var spikeDelay: Nanos = 100 * .nanosPerMillisecond
    /// Probability that a Time message (either direction) is lost; audio rides TCP and is never lost.
    public var lossProbability: Double = 0.01

    /// Creates the default network.
    public init() {}

    /// A delay for one message; nil when it is lost (only if `losable`).
    public func delay(using random: inout SeededRandom, losable: Bool) -> Nanos? {
        if losable, random.chance(lossProbability) { return nil }
        var delay = floor + Nanos(random.exponential(mean: Double(meanJitter)))
        if random.chance(spikeProbability) { delay += spikeDelay }
        return delay
    }
}
