import Testing
@testable import TuttiMeasure

/// The emission model against simulated players whose true emission times are known.
@Suite struct EmissionModelTests {
    static let origin: Int64 = 1_000_000_000_000
    static let format = CaptureFormat()
    static let source = MusicLikeSignal.render(seconds: 11)

    /// Model minus true emission time (µs) for every 100th frame of the player's output.
    static func errors(_ player: SimulatedPlayer, skippingAround stallFrame: Int? = nil) -> (model: EmissionModel, errors: [Double]) {
        let capture = player.capture(source: source, scheduleOrigin: Double(origin))
        let model = EmissionModel.fit(capture, format: format, origin: origin)
        let frames = stride(from: 0, to: model.frameCount, by: 100).filter { frame in
            stallFrame.map { abs(frame - $0) > 48_000 } ?? true
        }
        let errors = frames.map { (model.emissionTime(ofFrame: Double($0)) + Double(origin) - player.emission(ofFrame: $0)) / 1_000 }
        return (model, errors)
    }

    @Test(arguments: [(2400, 65_536, 100.0), (2400, 8_192, -100.0), (480, 1_024, 55.0), (960, 65_536, 0.0)])
    func tracksTheLowerEnvelopeOfArrivals(blockFrames: Int, pieceBytes: Int, ppm: Double) {
        let player = SimulatedPlayer(name: "p", ppm: ppm, blockFrames: blockFrames, outputStart: Double(Self.origin) + 1e6,
                                     readPieceBytes: pieceBytes, seed: UInt64(blockFrames + pieceBytes))
        let (model, errors) = Self.errors(player)
        let sorted = errors.sorted()
        // Every arrival is at least 10 µs late in the simulation, so the envelope sits ~10 µs late.
        let p50 = DeviationStatistics.percentile(0.5, ofSorted: sorted)
        print("blocks \(blockFrames) reads \(pieceBytes) ppm \(ppm): model − truth µs min \(sorted.first!) p50 \(p50) max \(sorted.last!), ppm \(model.clockPPM)")
        #expect(p50 > 9 && p50 < 14)
        #expect(sorted.first! > 6 && sorted.last! < 20)
        #expect(abs(model.clockPPM - ppm) < 2)
        #expect(model.segmentCount == 1)
        for frame in stride(from: 0.0, to: Double(model.frameCount), by: 12_345.6) {
            #expect(abs(model.frame(emittedAt: model.emissionTime(ofFrame: frame)) - frame) < 1e-3)
        }
    }

    @Test func aStallStartsANewSegmentAndIsFollowedAtOnce() {
        let stallFrame = 240_000
        let player = SimulatedPlayer(name: "p", ppm: -60, blockFrames: 960, outputStart: Double(Self.origin),
                                     stall: (stallFrame, 150_000_000), seed: 5)
        let (model, errors) = Self.errors(player)
        #expect(model.segmentCount == 2)
        #expect(errors.allSatisfy { $0 > 6 && $0 < 20 })
        #expect(model.frame(emittedAt: player.emission(ofFrame: stallFrame) - 50e6 - Double(Self.origin)) == Double(stallFrame))
    }

    @Test func lateArrivalsOfAWholeSecondDoNotMoveTheModel() {
        // The harness stalls for 300 ms: the reads of six writes come late, all at once.
        var capture = SimulatedPlayer(name: "p", blockFrames: 2400, outputStart: Double(Self.origin), seed: 9)
            .capture(source: Self.source, scheduleOrigin: Double(Self.origin))
        let healthy = EmissionModel.fit(capture, format: Self.format, origin: Self.origin)
        for index in capture.reads.indices where capture.reads[index].arrival - Self.origin > 4_000_000_000 {
            capture.reads[index].arrival = max(capture.reads[index].arrival, Self.origin + 4_300_000_000)
            if capture.reads[index].arrival > Self.origin + 4_300_000_000 { break }
        }
        let delayed = EmissionModel.fit(capture, format: Self.format, origin: Self.origin)
        for frame in stride(from: 0.0, to: Double(healthy.frameCount), by: 4_800) {
            #expect(abs(delayed.emissionTime(ofFrame: frame) - healthy.emissionTime(ofFrame: frame)) < 3_000)
        }
    }

    @Test func anEmptyCaptureMapsFramesAtTheNominalRate() {
        let model = EmissionModel.fit(PlayerCapture(name: "none"), format: Self.format, origin: Self.origin)
        #expect(model.frameCount == 0)
        #expect(model.writeCount == 0)
        #expect(model.emissionTime(ofFrame: 48_000) == 1e9)
        #expect(model.frame(emittedAt: 5e8) == 24_000)
    }

    @Test func aReadSplittingAFrameCountsOnlyWholeFrames() {
        var capture = PlayerCapture(name: "odd", leadNanoseconds: 1_000)
        capture.append(arrival: Self.origin + 10_000, bytes: [UInt8](repeating: 0, count: 4 * 480 + 2))
        capture.append(arrival: Self.origin + 10_010_000, bytes: [UInt8](repeating: 0, count: 4 * 480 - 2))
        capture.append(arrival: Self.origin + 20_000_000, bytes: [])
        let model = EmissionModel.fit(capture, format: Self.format, origin: Self.origin)
        #expect(model.frameCount == 960)
        #expect(model.writeCount == 2)
        #expect(abs(model.emissionTime(ofFrame: 0) - 11_000) < 1e-6)
    }
}
