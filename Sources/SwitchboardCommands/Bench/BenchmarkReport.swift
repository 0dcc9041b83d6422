#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One measured figure, with the target it is held to.
struct BenchmarkResult: Codable, Sendable {
    var name: String
    var value: Double
    var unit: String
    /// What the issue asks for, in words ("≤ 1 µs").
    var target: String?
    var meetsTarget: Bool?
    var detail: String?
}

/// Prints results as an aligned table, or as JSON.
struct BenchmarkReport {
    var title: String
    var results: [BenchmarkResult] = []

    func render(json: Bool) throws -> String {
        if json {
            struct Document: Codable {
                var benchmark: String
                var build: String
                var results: [BenchmarkResult]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(Document(benchmark: title, build: buildMode, results: results))
            return String(decoding: data, as: UTF8.self)
        }
        var lines = ["\(title) (\(buildMode) build)"]
        let width = results.map(\.name.count).max() ?? 0
        for r in results {
            var line = r.name.padding(width) + "  " + Self.format(r.value) + " " + r.unit
            if let target = r.target {
                line += "   target \(target): " + (r.meetsTarget == true ? "met" : "NOT met")
            }
            if let detail = r.detail { line += "   (\(detail))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ v: Double) -> String {
        if v >= 1_000_000 { return String(format1(v / 1_000_000)) + "M" }
        if v >= 10_000 { return String(format1(v / 1000)) + "k" }
        return format1(v)
    }

    static func format1(_ v: Double) -> String {
        let scaled = (v * 100).rounded() / 100
        return scaled == scaled.rounded() ? String(Int64(scaled)) : String(scaled)
    }

    var buildMode: String {
        #if DEBUG
        "debug — figures are not representative, use `swift build -c release`"
        #else
        "release"
        #endif
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// Median of repeated timings of `body`, in seconds; `between` runs untimed before each run.
func medianSeconds(runs: Int, between: () -> Void = {}, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var samples: [Double] = []
    for _ in 0..<runs {
        between()
        samples.append(clock.measure(body).seconds)
    }
    samples.sort()
    return samples[samples.count / 2]
}
