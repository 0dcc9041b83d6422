import Foundation
import Testing

/// Which endpoints a ClusterIP uses, with real traffic: internalTrafficPolicy (cases 11–13), the terminating
/// fallback (18–21), targetPort mapping (4) and --masquerade-all (17). Selector-less Services with hand-written
/// EndpointSlices point at real echo pods, so each endpoint's node and conditions are exactly the case's. In
/// every proxy mode: the endpoints chosen are the same; userspace mode connects from the node, always.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root, iproute2 and nftables"), .timeLimit(.minutes(4)))
struct EndpointSelectionTests {
    struct Target {
        var pod: String
        var ready = true
        var serving = true
        var terminating = false
    }

    /// A selector-less Service on port 443 (→ 8080 on the pods) and its slice.
    static func service(_ name: String, local: Bool = false, _ targets: [Target], ips: [String: String], nodes: [String: String]) -> String {
        let endpoints = targets.map { t in
            "{addresses: [\(ips[t.pod]!)], nodeName: \(nodes[t.pod]!), conditions: {ready: \(t.ready), serving: \(t.serving), terminating: \(t.terminating)}}"
        }.joined(separator: ", ")
        return """
            apiVersion: v1
            kind: Service
            metadata: {name: \(name)}
            spec:
              \(local ? "internalTrafficPolicy: Local" : "internalTrafficPolicy: Cluster")
              ports: [{port: 443}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: \(name)-1, labels: {kubernetes.io/service-name: \(name)}}
            addressType: IPv4
            ports: [{name: "", port: 8080, protocol: TCP}]
            endpoints: [\(endpoints)]
            """
    }

    @Test(arguments: LabProxyMode.available)
    func policiesAndConditionsChooseTheEndpoints(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let pods = [ProxyTrafficTests.pod("l1", node: node1), ProxyTrafficTests.pod("l2", node: node1), ProxyTrafficTests.pod("r1", node: node2),
                        ProxyTrafficTests.pod("client", node: node1, app: "client")]
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: pods.joined(separator: "\n---\n")).succeeded)
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 4
            }, "every pod Ready")
            var ips: [String: String] = [:]
            for pod in ["l1", "l2", "r1", "client"] { ips[pod] = try await lab.jsonpath("pod/\(pod)", "{.status.podIP}") }
            let nodes = ["l1": node1, "l2": node1, "r1": node2]
            let cases: [(name: String, local: Bool, targets: [Target], expected: Set<String>?, what: String)] = [
                ("c11", false, [Target(pod: "l1"), Target(pod: "l2"), Target(pod: "r1")], ["l1", "l2", "r1"], "case 11: Cluster policy uses every node's endpoints"),
                ("c12", true, [Target(pod: "l1"), Target(pod: "r1")], ["l1"], "case 12: Local policy, one local endpoint"),
                ("c13", true, [Target(pod: "l1"), Target(pod: "l2"), Target(pod: "r1")], ["l1", "l2"], "case 13: Local policy, the local endpoints only"),
                ("c18", false, [Target(pod: "l1"), Target(pod: "r1"), Target(pod: "l2", ready: false, terminating: true)], ["l1", "r1"],
                 "case 18: serving-terminating endpoints are not used while ready ones exist"),
                ("c19", false, [Target(pod: "l1", ready: false, terminating: true), Target(pod: "r1", ready: false, terminating: true)], ["l1", "r1"],
                 "case 19: only serving-terminating endpoints: they take the traffic"),
                ("c20", false, [Target(pod: "r1", ready: false, terminating: true)], ["r1"], "case 20: one serving-terminating endpoint on another node"),
                ("c21", false, [Target(pod: "l1", ready: false, serving: false, terminating: true), Target(pod: "r1", ready: false, serving: false, terminating: false)], nil,
                 "case 21: no usable endpoint: refused"),
            ]
            let manifest = cases.map { Self.service($0.name, local: $0.local, $0.targets, ips: ips, nodes: nodes) }.joined(separator: "\n---\n")
            let applied = try await lab.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(applied.succeeded, "\(applied.transcript)")
            for c in cases {
                let ip = try await lab.jsonpath("svc/\(c.name)", "{.spec.clusterIP}")
                if let expected = c.expected {
                    // Case 4 on the way: port 443 of the Service reaches 8080 on the pods.
                    var seen: Set<String> = []
                    #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                        let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):443", "--count", "60"])
                        seen = Set(ProxyTrafficTests.tally(run.stdout).keys)
                        return run.succeeded && seen == expected
                    }, "\(c.what): saw \(seen)")
                } else {
                    var last = ProcessResult(status: 0, stdout: "", stderr: "")
                    #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                        last = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):443", "--timeout", "2"])
                        return !last.succeeded && last.stderr.contains("refused")
                    }, "\(c.what): \(last.transcript)")
                }
            }

            // Case 17: with --masquerade-all, even a pod client is masqueraded (the pod sees a node address).
            let ip = try await lab.jsonpath("svc/c11", "{.spec.clusterIP}")
            let before = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):443", "--count", "10"])
            #expect(before.succeeded && before.stdout.split(separator: "\n").allSatisfy { $0.contains("client=\(ips["client"]!):") } == mode.podSeesClientAddress,
                "no masquerade by default (userspace: the relay's own connection): \(before.stdout)")
            for pid in ProxyTrafficTests.proxyPIDs(lab) { kill(pid, SIGTERM) }
            #expect(await eventually(within: .seconds(10)) { ProxyTrafficTests.proxyPIDs(lab).isEmpty })
            let restarted = try await lab.switchboard(["lab", "restart-proxy", "--name", lab.name, "--node", "1", "--", "--masquerade-all"])
            #expect(restarted.succeeded, "\(restarted.transcript)")
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):443", "--count", "10"])
                return run.succeeded && run.stdout.split(separator: "\n").allSatisfy { !$0.contains("client=\(ips["client"]!):") }
            }, "with --masquerade-all the pod's own address is hidden")
        }
    }
}
