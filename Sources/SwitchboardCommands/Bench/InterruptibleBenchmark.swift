import UnixSignals

/// Runs a benchmark that starts processes (and namespaces), so that Ctrl-C or SIGTERM ends the measurement and
/// `cleanUp` runs on every path, then prints the report.
func runInterruptible(
    title: String, json: Bool, _ run: @escaping @Sendable () async throws -> [BenchmarkResult], cleanUp: () async -> Void
) async throws {
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    let results: [BenchmarkResult]
    do {
        results = try await withThrowingTaskGroup(of: [BenchmarkResult]?.self) { group in
            group.addTask { try await run() }
            group.addTask {
                for await signal in signals { throw BenchError("interrupted (\(signal)); what the benchmark started was removed") }
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let results = first else { throw BenchError("interrupted") }
            return results
        }
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
    var report = BenchmarkReport(title: title)
    report.results = results
    print(try report.render(json: json))
}
