import Foundation
import Testing

/// True where the lab can run: as root, with iproute2.
let labAvailable = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

/// One lab cluster for one test: a unique name, `lab up` before the body and `lab down` after it on every
/// path, and the proof that the host namespace is as it was and that nothing of the lab is left.
struct LabHarness: Sendable {
    let name: String
    let scratch: URL

    var directory: String { "/run/switchboard-lab/\(name)" }
    var kubeconfig: String { "\(directory)/data/kubeconfig" }

    static func make() throws -> LabHarness {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let name = "t" + String((0..<6).map { _ in alphabet.randomElement()! })
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sb-lab-\(name)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        return LabHarness(name: name, scratch: scratch)
    }

    func switchboard(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(90)) async throws -> ProcessResult {
        try await ProcessRunner.run(SwitchboardUp.executable, arguments, stdin: stdin, directory: scratch, timeout: timeout)
    }

    func kubectl(_ arguments: String..., stdin: String? = nil) async throws -> ProcessResult {
        try await ProcessRunner.run(
            "/usr/bin/kubectl", arguments, environment: ["KUBECONFIG": kubeconfig], stdin: stdin, directory: scratch, timeout: .seconds(30))
    }

    func exec(_ target: String, _ command: [String], timeout: Duration = .seconds(30)) async throws -> ProcessResult {
        try await switchboard(["lab", "exec", "--name", name, target, "--"] + command, timeout: timeout)
    }

    /// A jsonpath query's output, or "" when kubectl failed.
    func jsonpath(_ resource: String, _ path: String, namespace: String = "default") async throws -> String {
        let result = try await kubectl("get", resource, "-n", namespace, "-o", "jsonpath=\(path)")
        return result.succeeded ? result.stdout : ""
    }

    /// Namespaces of this lab that exist now.
    func namespaces() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix("sb-\(name)-") }
    }

    /// Processes whose command line names the lab's directory.
    func processes() -> [String] {
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if command.contains(directory + "/") { found.append("\(entry): \(command)") }
        }
        return found
    }
}

/// What the host (root) namespace has: links, addresses, routes, rules and, where installed, packet filters.
func hostNetworkSnapshot() async throws -> String {
    let scratch = FileManager.default.temporaryDirectory
    var out = ""
    var commands: [[String]] = [
        ["/usr/sbin/ip", "-o", "link", "show"], ["/usr/sbin/ip", "-o", "addr", "show"],
        ["/usr/sbin/ip", "route", "show", "table", "all"], ["/usr/sbin/ip", "-6", "route", "show", "table", "all"],
        ["/usr/sbin/ip", "rule", "show"],
    ]
    if FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") { commands.append(["/usr/sbin/nft", "list", "ruleset"]) }
    if FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-save") { commands.append(["/usr/sbin/iptables-save"]) }
    for command in commands {
        let result = try await ProcessRunner.run(command[0], Array(command.dropFirst()), directory: scratch, timeout: .seconds(20))
        // iptables-save stamps its output with the time.
        out += "$ \(command.joined(separator: " "))\n" + result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n") + "\n"
    }
    return out
}

/// Runs `body` on a fresh two-node lab and removes it afterwards, whatever happens; then checks that the host
/// namespace did not change and nothing of the lab remains.
func withLab(nodes: Int = 2, ipFamily: String = "ipv4", mode: LabProxyMode = .nftables, _ body: (LabHarness) async throws -> Void) async throws {
    let lab = try LabHarness.make()
    let before = try await hostNetworkSnapshot()
    defer { try? FileManager.default.removeItem(at: lab.scratch) }
    var failure: (any Error)?
    let up = try await lab.switchboard(["lab", "up", "--name", lab.name, "--nodes", String(nodes), "--ip-family", ipFamily, "--mode", mode.rawValue])
    if up.succeeded {
        do { try await body(lab) } catch { failure = error }
    }
    let down = try await lab.switchboard(["lab", "down", "--name", lab.name])
    #expect(up.succeeded, "lab up: \(up.transcript)")
    #expect(down.succeeded, "lab down: \(down.transcript)")
    #expect(lab.namespaces().isEmpty, "left behind: \(lab.namespaces())")
    #expect(lab.processes().isEmpty, "left running: \(lab.processes())")
    #expect(try await hostNetworkSnapshot() == before, "the host namespace changed")
    if let failure { throw failure }
}
