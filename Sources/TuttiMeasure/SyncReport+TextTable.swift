extension SyncReport {
    /// The report as a plain-text table with aligned columns, one row per player, then a line
    /// for the group's skew — what `tutti demo` and `tutti bench sync` print.
    ///
    /// Columns: player, measured windows, rejected and silent windows, |deviation| p50/p99/max
    /// (µs, after settling), median signed deviation (µs), first audible frame and in sync (ms
    /// after start), clock (ppm against the harness). A dash marks a value that does not exist
    /// (no windows after settling; never audible; never in sync).
    public func textTable() -> String {
        let header = ["player", "windows", "rejected", "silent", "p50 µs", "p99 µs", "max µs", "median µs",
                      "audio ms", "sync ms", "clock ppm"]
        var rows = [header]
        for player in players {
            rows.append([
                player.name, "\(player.measuredWindows)", "\(player.rejectedWindows)", "\(player.silentWindows)",
                Self.format(player.deviation?.p50, decimals: 1), Self.format(player.deviation?.p99, decimals: 1),
                Self.format(player.deviation?.max, decimals: 1),
                Self.format(player.medianDeviationMicroseconds, decimals: 1, signed: true),
                Self.format(player.firstAudioNanoseconds.map { Double($0) / 1e6 }, decimals: 1),
                Self.format(player.inSyncNanoseconds.map { Double($0) / 1e6 }, decimals: 1),
                Self.format(player.clockPPM, decimals: 1, signed: true),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        var lines = rows.map { row in
            row.indices.map { column in
                column == 0 ? Self.pad(row[column], to: widths[column], right: false) : Self.pad(row[column], to: widths[column], right: true)
            }.joined(separator: "  ")
        }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        let settle = Self.format(settleSeconds, decimals: 2)
        if let skew {
            lines.append("group skew (latest − earliest): p50 \(Self.format(skew.p50, decimals: 1)) µs, "
                + "p99 \(Self.format(skew.p99, decimals: 1)) µs, max \(Self.format(skew.max, decimals: 1)) µs "
                + "over \(skew.count) windows after \(settle) s")
        } else {
            lines.append("group skew: no window after \(settle) s measured two players")
        }
        lines.append("|deviation| from the group median after \(settle) s; in sync = stays under "
            + "\(Self.format(syncThresholdMicroseconds, decimals: 0)) µs; times from start")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `value` with `decimals` fraction digits (rounded half away from zero), "+" for positive
    /// values when `signed`, a lone "-" for nil or non-finite.
    static func format(_ value: Double?, decimals: Int, signed: Bool = false) -> String {
        guard let value, value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        var text = "\(whole)"
        if decimals > 0 {
            let digits = "\(fraction)"
            text += "." + String(repeating: "0", count: decimals - digits.count) + digits
        }
        if value < 0, scaled > 0 { return "-" + text }
        return signed && scaled > 0 ? "+" + text : text
    }

    static func pad(_ text: String, to width: Int, right: Bool) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
