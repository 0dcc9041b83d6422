import Foundation
import Synchronization
import Testing

/// A network namespace of a test's own (`sb-tXXXXXX-SUFFIX`, its loopback up), for tests that start
/// Switchboard's processes themselves rather than a lab: what they start is stopped, the namespace deleted and
/// the scratch directory removed on every path, and the host namespace checked unchanged afterwards.
final class OwnNamespace: Sendable {
    let lab: LabHarness
    let name: String
    /// How long a command run to its end may take.
    let commandTimeout: Duration
    private let started = Mutex<[BackgroundProcess]>([])

    init(lab: LabHarness, suffix: String, commandTimeout: Duration) {
        self.lab = lab
        name = "sb-\(lab.name)-\(suffix)"
        self.commandTimeout = commandTimeout
    }

    var scratch: URL { lab.scratch }

    /// `argv` in the host namespace, to its end.
    func run(_ argv: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await ProcessRunner.run(argv[0], Array(argv.dropFirst()), stdin: stdin, directory: scratch, timeout: commandTimeout)
    }

    /// `argv` inside the namespace, to its end.
    func exec(_ argv: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await run(["/usr/sbin/ip", "netns", "exec", name] + argv, stdin: stdin)
    }

    /// `argv` started inside the namespace (or, with `inNamespace: false`, in the host's), stopped when the
    /// test ends.
    func start(_ argv: [String], inNamespace: Bool = true) throws -> BackgroundProcess {
        let full = inNamespace ? ["/usr/sbin/ip", "netns", "exec", name] + argv : argv
        let process = try BackgroundProcess(full[0], Array(full.dropFirst()), directory: scratch)
        started.withLock { $0.append(process) }
        return process
    }

    fileprivate func stopAll() async {
        for process in started.withLock({ $0 }) { await process.stop() }
    }
}

/// Runs `body` with a namespace of its own (see `OwnNamespace`). A failure is recorded as the test's issue; a
/// `CancellationError` from `body` ends it quietly (an expectation already said what went wrong).
func withOwnNamespace(_ suffix: String, commandTimeout: Duration = .seconds(30), _ body: (OwnNamespace) async throws -> Void) async throws {
    let hostBefore = try await hostNetworkSnapshot()
    let own = OwnNamespace(lab: try LabHarness.make(), suffix: suffix, commandTimeout: commandTimeout)
    do {
        #expect(try await own.run(["/usr/sbin/ip", "netns", "add", own.name]).succeeded)
        _ = try await own.run(["/usr/sbin/ip", "-n", own.name, "link", "set", "lo", "up"])
        try await body(own)
    } catch is CancellationError {
    } catch {
        Issue.record(error)
    }
    await own.stopAll()
    _ = try? await own.run(["/usr/sbin/ip", "netns", "delete", own.name])
    try? FileManager.default.removeItem(at: own.scratch)
    #expect(try await hostNetworkSnapshot() == hostBefore, "the host namespace is as it was")
    #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(own.name)"))
}
