import Foundation
import Testing

/// The proxy modes the lab's behaviour suite runs in, and what each is expected to do differently: the
/// differences are asserted, not skipped.
enum LabProxyMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case nftables, iptables, userspace

    var testDescription: String { rawValue }

    /// The modes this machine can run (their tools installed).
    static var available: [LabProxyMode] { allCases.filter(\.isAvailable) }

    var isAvailable: Bool {
        switch self {
        case .nftables: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
        case .iptables: FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-restore")
        case .userspace: true
        }
    }

    /// DNAT keeps the client's address; the relay opens its own connection from the node to the pod.
    var podSeesClientAddress: Bool { self != .userspace }

    /// How evenly new connections spread over three endpoints, as the largest deviation from a third:
    /// a random choice per connection in the kernel modes, round robin (exact) in the relay.
    var spreadTolerance: Double { self == .userspace ? 0.001 : 0.04 }

    /// What a client sees where the netfilter modes drop in silence (an address of the service CIDR that no
    /// Service holds; `internalTrafficPolicy: Local` with endpoints elsewhere only): the relay has no listener
    /// there, and the node's own stack refuses.
    var silenceWord: String { self == .userspace ? "refused" : "no answer" }

    /// Whether `stderr` of a client on the outside host shows the ClusterIP kept internal: dropped before DNAT
    /// in the kernel modes (no answer); accepted by the node's kernel and reset at once by the relay, which
    /// serves pods and the node only.
    func outsideKeptOut(_ stderr: String) -> Bool {
        self == .userspace ? (stderr.contains("reset") || stderr.contains("closed")) : stderr.contains("no answer")
    }
}

extension LabHarness {
    /// The node's rules of `mode`, without what changes by itself (counters, dates).
    func rules(_ mode: LabProxyMode, node: Int = 1) async throws -> String {
        switch mode {
        case .nftables: return try await exec("node/node\(node)", ["nft", "list", "table", "ip", "switchboard"]).stdout
        case .iptables:
            let save = try await exec("node/node\(node)", ["iptables-save"]).stdout
            return save.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
                // Built-in chains' counters: `:PREROUTING ACCEPT [12:720]`.
                line.hasPrefix(":") ? String(line.prefix { $0 != "[" }) : String(line)
            }.joined(separator: "\n")
        case .userspace: return ""
        }
    }
}
