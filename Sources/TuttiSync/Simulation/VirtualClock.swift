#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TuttiTiming

/// A simulated device clock against the simulation's true time: an offset, a constant rate
/// error and an optional slow sinusoidal wander of the rate (temperature).
///
/// `local(t) = offset + t + t·ppm/1e6 + wander·period/(2π)·sin(2πt/period + phase)/1e6` (minus
/// its value at t = 0), so its rate is `1 + (ppm + wander·cos(…))/1e6`.
public struct VirtualClock: Sendable {
    /// Local reading at true time 0.
    public var offset: Nanos
    /// Constant rate error in parts per million (positive runs fast).
    public var ppm: Double
    /// Amplitude of the rate wander, ppm.
    public var wanderPPM: Double
    /// Period of the rate wander, seconds.
    public var wanderPeriod: Double
    /// Phase of the rate wander, radians.
    public var wanderPhase: Double

    /// Creates a clock.
    public init(offset: Nanos, ppm: Double, wanderPPM: Double = 0, wanderPeriod: Double = 3600, wanderPhase: Double = 0) {
        self.offset = offset
        self.ppm = ppm
        self.wanderPPM = wanderPPM
        self.wanderPeriod = wanderPeriod
        self.wanderPhase = wanderPhase
    }

    private func drift(_ t: Double) -> Double {  // nanoseconds gained by true time t (ns)
        let seconds = t / 1e9
        let omega = 2 * Double.pi / wanderPeriod
        let wander = wanderPPM * 1e3 / omega * (sin(omega * seconds + wanderPhase) - sin(wanderPhase))
        return t * ppm * 1e-6 + wander
    }

    /// The clock's reading at true time `t`.
    public func local(atTrue t: Nanos) -> Nanos {
        offset &+ t &+ Nanos(drift(Double(t)).rounded())
    }

    /// The true time at which the clock reads `local` (inverse of ``local(atTrue:)``, to 1 ns).
    public func trueTime(atLocal local: Nanos) -> Nanos {
        let target = local &- offset
        var t = target
        for _ in 0..<4 {
            let error = (t &+ Nanos(drift(Double(t)).rounded())) &- target
            if error == 0 { break }
            t = t &- error
        }
        return t
    }

    /// The instantaneous rate, local nanoseconds per true nanosecond.
    public func rate(atTrue t: Nanos) -> Double {
        let omega = 2 * Double.pi / wanderPeriod
        return 1 + (ppm + wanderPPM * cos(omega * Double(t) / 1e9 + wanderPhase)) * 1e-6
    }
}
