import Foundation
import Testing

/// The scheduler in `switchboard up`: pods without a node wait until a node is Ready, then spread evenly over
/// the Ready nodes through the binding subresource, each with a `Scheduled` event; a pod that names its node
/// keeps it.
@Suite(.timeLimit(.minutes(2)))
struct SchedulerTests {
    static func node(_ name: String) -> String {
        """
        apiVersion: v1
        kind: Node
        metadata:
          name: \(name)
        """
    }

    static func pod(_ name: String, nodeName: String? = nil) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
          namespace: sched
        spec:
          \(nodeName.map { "nodeName: \($0)" } ?? "")
          containers:
          - name: main
            image: switchboard-echo
        """
    }

    static let readyStatus = #"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}"#

    /// `pod=node` for every pod in the namespace (an empty node for a pod not bound yet).
    static func placements(_ up: SwitchboardUp) async throws -> [String: String] {
        let listed = try await up.kubectl(
            "get", "pods", "-n", "sched", "-o", #"jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\n"}{end}"#)
        guard listed.succeeded else { throw TestFailure("listing pods: \(listed.transcript)") }
        var result: [String: String] = [:]
        for line in listed.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    static let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sched\n"

    /// Creates the nodes and marks them Ready through the status subresource, as a node agent does.
    static func readyNodes(_ names: [String], _ up: SwitchboardUp) async throws {
        let created = try await up.kubectl("apply", "-f", try up.file("nodes.yaml", names.map(node).joined(separator: "\n---\n")))
        #expect(created.succeeded, "\(created.transcript)")
        for name in names {
            let patched = try await up.kubectl("patch", "node", name, "--subresource=status", "--type=merge", "-p", readyStatus)
            #expect(patched.succeeded && patched.stdout == "node/\(name) patched\n", "\(patched.transcript)")
        }
    }

    @Test func podsSpreadEvenlyOverReadyNodes() async throws {
        try await withControlPlane { up in
            try await Self.readyNodes(["node-a", "node-b"], up)
            let pods = ["web-0", "web-1", "web-2", "web-3"].map { Self.pod($0) } + [Self.pod("pinned", nodeName: "node-elsewhere")]
            let applied = try await up.kubectl("apply", "-f", try up.file("pods.yaml", ([Self.namespace] + pods).joined(separator: "\n---\n")))
            #expect(applied.succeeded, "\(applied.transcript)")

            var placed: [String: String] = [:]
            let bound = try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                placed = try await Self.placements(up)
                return placed.count == 5 && placed.values.allSatisfy { !$0.isEmpty }
            }
            #expect(bound, "\(placed)")
            // The pod that named its node keeps it (and is not counted on either node).
            #expect(placed["pinned"] == "node-elsewhere")
            let perNode = Dictionary(grouping: placed.filter { $0.key != "pinned" }, by: \.value).mapValues(\.count)
            #expect(perNode == ["node-a": 2, "node-b": 2], "\(placed)")

            // Each binding is recorded as upstream's scheduler records it.
            var messages: [String] = []
            let recorded = try await eventually(within: .seconds(5), every: .milliseconds(100)) {
                let events = try await up.kubectl(
                    "get", "events", "-n", "sched", "--field-selector", "reason=Scheduled",
                    "-o", #"jsonpath={range .items[*]}{.type} {.source.component} {.message}{"\n"}{end}"#)
                messages = events.stdout.split(separator: "\n").map(String.init).sorted()
                return messages.count == 4
            }
            #expect(recorded, "\(messages)")
            let expected = placed.filter { $0.key != "pinned" }.sorted { $0.key < $1.key }.map {
                "Normal default-scheduler Successfully assigned sched/\($0.key) to \($0.value)"
            }
            #expect(messages == expected)
        }
    }

    @Test func aPodWaitsUntilANodeIsReady() async throws {
        try await withControlPlane { up in
            let created = try await up.kubectl("apply", "-f", try up.file("node.yaml", Self.node("node-a")))
            #expect(created.succeeded, "\(created.transcript)")
            let applied = try await up.kubectl("apply", "-f", try up.file("pod.yaml", Self.namespace + "---\n" + Self.pod("web-0")))
            #expect(applied.succeeded, "\(applied.transcript)")
            // The scheduler has seen the pod (it lists and watches pods) but no node takes it.
            #expect(try await Self.placements(up) == ["web-0": ""])

            let patched = try await up.kubectl("patch", "node", "node-a", "--subresource=status", "--type=merge", "-p", Self.readyStatus)
            #expect(patched.succeeded, "\(patched.transcript)")
            var placed: [String: String] = [:]
            let bound = try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                placed = try await Self.placements(up)
                return placed == ["web-0": "node-a"]
            }
            #expect(bound, "\(placed)")
        }
    }
}
