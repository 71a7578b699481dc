import Testing
@testable import TuttiMeasure

/// The text table and the SVG plot, on a hand-made report (fast, exact).
@Suite struct SyncReportRenderingTests {
    static func player(_ name: String, offset: Double, windows: Int = 50) -> PlayerSyncResult {
        let series = (0..<windows).map { DeviationPoint(seconds: Double($0) / 10, microseconds: offset + Double($0 % 5) - 2) }
        return PlayerSyncResult(
            name: name, measuredWindows: windows, rejectedWindows: 1, silentWindows: 2,
            deviation: DeviationStatistics(of: series.map { abs($0.microseconds) }), medianDeviationMicroseconds: offset,
            firstAudioNanoseconds: 300_000_000, inSyncNanoseconds: 320_000_000, clockPPM: -42.25, series: series)
    }

    static let report = SyncReport(
        players: [player("kitchen", offset: 0), player("living <room> & \"den\"", offset: 30), player("patio", offset: -20),
                  PlayerSyncResult(name: "garage", measuredWindows: 0, rejectedWindows: 0, silentWindows: 50, deviation: nil,
                                   medianDeviationMicroseconds: nil, firstAudioNanoseconds: nil, inSyncNanoseconds: nil,
                                   clockPPM: 0, series: [])],
        skew: DeviationStatistics(count: 30, p50: 50, p99: 54, max: 55), skewSeries: [], startedAt: 1_000,
        settleAfter: 2_000_001_000, syncThresholdMicroseconds: 100, comparedWindows: 50)

    @Test func theTableHasAnAlignedRowPerPlayerAndTheGroupSkew() {
        let table = Self.report.textTable()
        print(table)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("player"))
        for name in ["kitchen", "living <room> & \"den\"", "patio", "garage"] {
            #expect(lines.contains { $0.hasPrefix(name) })
        }
        let rows = Array(lines[2..<6])
        #expect(Set(rows.map(\.count)).count == 1, "rows are padded to one width")
        #expect(rows[1].contains("+30.0"))
        #expect(rows[2].contains("-20.0"))
        #expect(rows[0].contains("-42.3") || rows[0].contains("-42.2"))
        #expect(rows[3].contains(" - "))
        #expect(table.contains("p99 54.0 µs"))
    }

    @Test func theSVGHasAPolylinePerPlayerALegendAndTheGoalBand() {
        let svg = Self.report.svgPlot(title: "Tutti demo: 3 speakers")
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
        #expect(svg.contains("kitchen (p99"))
        #expect(svg.contains("living &lt;room&gt; &amp; &quot;den&quot;"))
        #expect(svg.contains("garage (not measured)"))
        #expect(svg.contains("goal ±50 µs"))
        #expect(svg.contains("Tutti demo: 3 speakers"))
        #expect(svg.contains("settled"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // Every opened element is closed or self-closed.
        let opened = svg.components(separatedBy: "<").count - 1
        let closedOrSelf = svg.components(separatedBy: "</").count - 1 + svg.components(separatedBy: "/>").count - 1
        #expect(opened == 2 * (svg.components(separatedBy: "</").count - 1) + svg.components(separatedBy: "/>").count - 1)
        #expect(closedOrSelf > 0)
    }

    @Test func anEmptyReportStillDrawsAxes() {
        let empty = SyncReport(players: [], skew: nil, skewSeries: [], startedAt: 0, settleAfter: 0,
                               syncThresholdMicroseconds: 100, comparedWindows: 0)
        let svg = empty.svgPlot(title: "nothing")
        #expect(svg.hasPrefix("<svg") && svg.contains("no window measured two players"))
        #expect(empty.textTable().contains("group skew: no window"))
    }

    static let tickCases: [(Double, [Double])] = [
        (1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (100, [0, 20, 40, 60, 80, 100]), (130, [0, 50, 100, 150]), (9.7, [0, 2, 4, 6, 8, 10]),
    ]

    @Test(arguments: tickCases)
    func ticksStepByOneTwoOrFive(maximum: Double, expected: [Double]) {
        let ticks = SyncReport.niceTicks(upTo: maximum)
        #expect(ticks.count == expected.count)
        for (tick, want) in zip(ticks, expected) { #expect(abs(tick - want) < 1e-9) }
    }

    @Test func numbersAreFormattedWithoutFoundation() {
        #expect(SyncReport.format(3.14159, decimals: 1) == "3.1")
        #expect(SyncReport.format(-0.04, decimals: 1) == "0.0")
        #expect(SyncReport.format(-2.25, decimals: 2, signed: true) == "-2.25")
        #expect(SyncReport.format(7, decimals: 0, signed: true) == "+7")
        #expect(SyncReport.format(nil, decimals: 1) == "-")
        #expect(SyncReport.format(.infinity, decimals: 1) == "-")
        #expect(SyncReport.tickLabel(0.2) == "0.2")
        #expect(SyncReport.tickLabel(-100) == "-100")
    }
}
