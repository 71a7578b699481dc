import TuttiTiming

/// A simulated one-way path: a floor, exponential jitter, rare large spikes and loss — and the
/// ways real networks are worse than that (DESIGN.md, "Real networks"), each off by default:
/// a floor that is itself noisy per message, Wi-Fi power save holding messages until the next
/// beacon, and a step of the floor (a roam to another access point).
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
    /// Each message's floor is higher by a uniform 0…this (contention backoff, rate adaptation,
    /// interrupt moderation, a busy host): the fastest messages no longer share one delay.
    public var floorNoise: Nanos = 0
    /// Share of messages a power-saving station holds until the next beacon.
    public var powerSaveProbability: Double = 0
    /// The access point's beacon interval (102.4 ms: 100 TU).
    public var beaconInterval: Nanos = 102_400_000
    /// From this instant on (simulation time) the floor is higher by ``floorStepBy``: a roam.
    public var floorStepAt: Nanos?
    public var floorStepBy: Nanos = 0

    /// Creates the default network.
    public init() {}

    /// A delay for one message sent at `time`; nil when it is lost (only if `losable`). The
    /// features that are off draw no random numbers, so a seeded run without them is the same
    /// as before they existed.
    public func delay(using random: inout SeededRandom, losable: Bool, at time: Nanos = 0) -> Nanos? {
        if losable, random.chance(lossProbability) { return nil }
        var delay = floor + Nanos(random.exponential(mean: Double(meanJitter)))
        if random.chance(spikeProbability) { delay += spikeDelay }
        if floorNoise > 0 { delay += Nanos(random.uniform(0...Double(floorNoise))) }
        if let step = floorStepAt, time >= step { delay += floorStepBy }
        if powerSaveProbability > 0, random.chance(powerSaveProbability), beaconInterval > 0 {
            // Held at the access point until the next beacon after it would have arrived.
            let arrival = time + delay
            delay += beaconInterval - ((arrival % beaconInterval) + beaconInterval) % beaconInterval
        }
        return delay
    }
}
