#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Named network namespaces and the links, addresses and routes in them, through iproute2 (`ip`).
///
/// Every operation names the namespace it acts in; nothing here acts in the caller's namespace unless asked
/// to with `namespace: nil`, which is how a node agent configures the node it runs in.
public struct NetworkNamespaces: Sendable {
    public let runner: any CommandRunner
    /// Where iproute2 keeps the names (`ip netns add` bind-mounts a namespace file here).
    public static let directory = "/run/netns"
    /// Per-namespace files that `ip netns exec` bind-mounts over /etc (resolv.conf, hosts).
    public static let etcDirectory = "/etc/netns"

    public init(runner: any CommandRunner = HostCommandRunner()) { self.runner = runner }

    /// The names of every named network namespace on the machine.
    public static func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    public static func exists(_ name: String) -> Bool { access("\(directory)/\(name)", F_OK) == 0 }

    public func add(_ name: String) async throws {
        try await runner.check(["ip", "netns", "add", name])
    }

    /// Deletes the namespace (its links go with it) and its /etc/netns files. Missing is fine.
    public func delete(_ name: String) async throws {
        try? FileManager.default.removeItem(atPath: "\(Self.etcDirectory)/\(name)")
        guard Self.exists(name) else { return }
        let result = try await runner.run(["ip", "netns", "delete", name])
        if !result.succeeded && Self.exists(name) { throw CommandError(result.describe(["ip", "netns", "delete", name])) }
    }

    /// Runs `ip` commands (one per line, without the leading `ip`) in one invocation, inside `namespace`
    /// (nil: where the caller is). One process instead of one per command: pod set-up is a few of these.
    public func batch(_ lines: [String], in namespace: String?) async throws {
        guard !lines.isEmpty else { return }
        var argv = ["ip"]
        if let namespace { argv += ["-n", namespace] }
        argv += ["-batch", "-"]
        try await runner.check(argv, stdin: lines.joined(separator: "\n") + "\n")
    }

    /// The processes in `namespace` (`ip netns pids`).
    public func pids(_ namespace: String) async -> [pid_t] {
        guard let result = try? await runner.run(["ip", "netns", "pids", namespace]), result.succeeded else { return [] }
        return result.stdout.split(whereSeparator: \.isNewline).compactMap { pid_t($0.filter { !$0.isWhitespace }) }
    }

    /// Runs `argv` inside `namespace`.
    public func exec(_ namespace: String, _ argv: [String], stdin: String? = nil, timeout: Duration = .seconds(30)) async throws -> CommandResult {
        try await runner.run(["ip", "netns", "exec", namespace] + argv, stdin: stdin, timeout: timeout)
    }

    /// Sets a sysctl under /proc/sys inside `namespace` (nil: here). `/proc/sys/net` shows the namespace of the
    /// process that opens it, so inside another namespace the write goes through `ip netns exec`.
    public func sysctl(_ key: String, _ value: String, in namespace: String?) async throws {
        let path = "/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 })
        if let namespace {
            try await runner.check(["ip", "netns", "exec", namespace, "sh", "-c", "echo \(value) > \(path)"])
        } else {
            guard let file = fopen(path, "w") else { throw CommandError("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { fclose(file) }
            fputs(value + "\n", file)
        }
    }

    /// Writes a file that processes started with `ip netns exec NAME` see at /etc/`file`.
    public func writeEtc(_ namespace: String, file: String, contents: String) throws {
        let directory = "\(Self.etcDirectory)/\(namespace)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try contents.write(toFile: "\(directory)/\(file)", atomically: true, encoding: .utf8)
    }
}
