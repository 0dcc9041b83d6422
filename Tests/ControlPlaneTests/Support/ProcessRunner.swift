import Foundation
import HostNetwork
import Synchronization

/// What a finished command printed and how it exited.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    var succeeded: Bool { status == 0 }
    /// stdout and stderr, for assertion messages.
    var transcript: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

enum ProcessRunner {
    /// One spawn at a time for the Foundation `Process`es that remain (`BackgroundProcess`).
    static let spawning = Mutex(())

    /// Runs a command to completion through HostNetwork's posix_spawn runner, not Foundation's `Process`:
    /// `Process.run()` crashed (a memcpy past a mapped page) twice in CI while many suites spawned commands,
    /// even one at a time. `environment` is passed with env(1); a timeout kills the command and returns.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        directory: URL, timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        var argv = [executable] + arguments
        if !environment.isEmpty {
            argv = ["/usr/bin/env"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + argv
        }
        let result = try await HostCommandRunner().run(argv, stdin: stdin, timeout: timeout)
        return ProcessResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

/// Polls `condition` until it holds or `deadline` passes; returns whether it held. For state that another
/// process changes (no notification to wait on), with a short interval.
func eventually(
    within deadline: Duration = .seconds(5), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while true {
        if try await condition() { return true }
        if clock.now >= end { return false }
        try? await Task.sleep(for: interval)
    }
}

/// A value shared between test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}
