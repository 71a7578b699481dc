extension SyncReport {
    /// A self-contained SVG chart of each player's deviation from the group over time: one
    /// coloured polyline per player, the ±`goalMicroseconds` band shaded, the settling time
    /// marked, ticked and labelled axes, a legend with each player's p99, and `title`.
    ///
    /// The time axis runs from 0 (or the first window, if earlier) to the last window. The vertical range is symmetric, at least ±2×goal, and wide enough for the 99.5th
    /// percentile of all plotted |deviations|; points beyond it are drawn on the edge, and the
    /// subtitle says so. A player with no measured window is listed in the legend only (and has
    /// an empty polyline). Uses only the generic `sans-serif` font; no CSS, no scripts.
    public func svgPlot(title: String, goalMicroseconds: Double = 50) -> String {
        let (width, height) = (960.0, 480.0)
        let (left, right, top, bottom) = (80.0, 220.0, 60.0, 50.0)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let allPoints = players.flatMap(\.series)
        let lastSecond = max(1, allPoints.map(\.seconds).max() ?? 1)
        let magnitudes = allPoints.map { abs($0.microseconds) }.sorted()
        let wanted = 1.1 * DeviationStatistics.percentile(0.995, ofSorted: magnitudes)
        let xMin = min(0, allPoints.map(\.seconds).min() ?? 0)
        let xMax = lastSecond
        let xStep = Self.tickStep(span: xMax - xMin, intervals: 8)
        let xTicks = stride(from: (xMin / xStep).rounded(.up) * xStep, through: xMax + xStep * 1e-9, by: xStep).map { $0 }
        let yTicks = Self.niceTicks(upTo: max(2 * goalMicroseconds, wanted))
        let yMax = yTicks.last!
        let clipped = magnitudes.last.map { $0 > yMax } ?? false
        func x(_ seconds: Double) -> Double { left + plotWidth * (max(xMin, min(seconds, xMax)) - xMin) / (xMax - xMin) }
        func y(_ microseconds: Double) -> Double { top + plotHeight * (1 - (max(-yMax, min(microseconds, yMax)) + yMax) / (2 * yMax)) }
        let n = { (value: Double) in Self.format(value, decimals: 1) }

        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\" font-size=\"12\">"]
        svg.append("<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"white\"/>")
        svg.append("<text x=\"\(n(left))\" y=\"24\" font-size=\"16\" font-weight=\"bold\">\(Self.escape(title))</text>")
        var subtitle = skew.map { "group skew p50 \(n($0.p50)) µs, p99 \(n($0.p99)) µs, max \(n($0.max)) µs after \(Self.format(settleSeconds, decimals: 2)) s" }
            ?? "no window measured two players"
        if clipped { subtitle += "; values beyond ±\(n(yMax)) µs drawn at the edge" }
        svg.append("<text x=\"\(n(left))\" y=\"44\" fill=\"#555\">\(Self.escape(subtitle))</text>")
        let goal = min(goalMicroseconds, yMax)
        svg.append("<rect x=\"\(n(left))\" y=\"\(n(y(goal)))\" width=\"\(n(plotWidth))\" height=\"\(n(y(-goal) - y(goal)))\" "
            + "fill=\"#2ca02c\" fill-opacity=\"0.12\"/>")
        svg.append("<text x=\"\(n(left + plotWidth - 4))\" y=\"\(n(y(goal) + 14))\" text-anchor=\"end\" fill=\"#2a7a2a\">goal ±\(Self.tickLabel(goalMicroseconds)) µs</text>")
        for tick in xTicks {
            svg.append("<line x1=\"\(n(x(tick)))\" y1=\"\(n(top))\" x2=\"\(n(x(tick)))\" y2=\"\(n(top + plotHeight))\" stroke=\"#e4e4e4\"/>")
            svg.append("<text x=\"\(n(x(tick)))\" y=\"\(n(top + plotHeight + 16))\" text-anchor=\"middle\">\(Self.tickLabel(tick))</text>")
        }
        for tick in yTicks.reversed().map({ -$0 }) + yTicks.dropFirst() {
            svg.append("<line x1=\"\(n(left))\" y1=\"\(n(y(tick)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y(tick)))\" "
                + "stroke=\"\(tick == 0 ? "#999" : "#e4e4e4")\"/>")
            svg.append("<text x=\"\(n(left - 6))\" y=\"\(n(y(tick) + 4))\" text-anchor=\"end\">\(Self.tickLabel(tick))</text>")
        }
        svg.append("<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#333\"/>")
        if settleSeconds > xMin, settleSeconds < xMax {
            svg.append("<line x1=\"\(n(x(settleSeconds)))\" y1=\"\(n(top))\" x2=\"\(n(x(settleSeconds)))\" y2=\"\(n(top + plotHeight))\" "
                + "stroke=\"#888\" stroke-dasharray=\"4 3\"/>")
            svg.append("<text x=\"\(n(x(settleSeconds) + 4))\" y=\"\(n(top + 14))\" fill=\"#666\">settled</text>")
        }
        svg.append("<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 12))\" text-anchor=\"middle\">time (s)</text>")
        svg.append("<text transform=\"translate(20 \(n(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "deviation from group median (µs)</text>")
        for (index, player) in players.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let points = player.series.map { "\(n(x($0.seconds))),\(n(y($0.microseconds)))" }.joined(separator: " ")
            svg.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>")
            let legendY = top + 10 + 22 * Double(index)
            let p99 = player.deviation.map { "p99 \(n($0.p99)) µs" } ?? "not measured"
            svg.append("<line x1=\"\(n(width - right + 16))\" y1=\"\(n(legendY))\" x2=\"\(n(width - right + 40))\" y2=\"\(n(legendY))\" "
                + "stroke=\"\(color)\" stroke-width=\"3\"/>")
            svg.append("<text x=\"\(n(width - right + 46))\" y=\"\(n(legendY + 4))\">\(Self.escape(player.name)) (\(p99))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// Ticks 0, step, 2·step, … up to the first at or beyond `maximum`, with a 1-2-5 step giving
    /// about `intervals` intervals (at most that many).
    static func niceTicks(upTo maximum: Double, intervals: Int = 5) -> [Double] {
        let step = tickStep(span: maximum, intervals: intervals)
        var ticks = [0.0]
        while ticks.last! < maximum - step * 1e-9 { ticks.append(ticks.last! + step) }
        return ticks
    }

    /// The smallest 1-2-5 step that cuts `span` into at most `intervals` intervals.
    static func tickStep(span: Double, intervals: Int) -> Double {
        let target = max(span, 1e-9) / Double(max(intervals, 1))
        var magnitude = 1.0
        while magnitude * 10 <= target { magnitude *= 10 }
        while magnitude > target { magnitude /= 10 }
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= target } ?? 10 * magnitude
    }

    /// A tick value without needless decimals ("2", "0.5", "-100").
    static func tickLabel(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() { return "\(Int(rounded))" }
        var text = format(rounded, decimals: 3)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// `text` with the five XML special characters escaped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
