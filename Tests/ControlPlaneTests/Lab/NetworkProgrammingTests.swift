import Foundation
import KubeAPI
import KubeClientHTTP
import Testing

/// Network programming latency with real traffic: from an endpoint's change at the API to new connections
/// through the ClusterIP seeing it, measured by a client that connects back to back in a pod on another node.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root, iproute2 and nftables"), .timeLimit(.minutes(5)))
struct NetworkProgrammingTests {
    /// `UNIX-TIME OUTCOME` lines of `echo --watch`.
    static func transitions(_ output: String) -> [(time: Double, outcome: String)] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let time = Double(fields[0]) else { return nil }
            return (time, String(fields[1]))
        }
    }

    static func seconds(_ time: Time) -> Double { Double(time.seconds) + Double(time.nanoseconds) / 1e9 }

    @Test(arguments: LabProxyMode.available)
    func anEndpointIsReachableWithin100msOfItsChangeAndGoneWithin100msOfItsRemoval(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: np}
                spec:
                  ports: [{port: 80}]
                ---
                \(ProxyTrafficTests.pod("target", node: node2))
                ---
                \(ProxyTrafficTests.pod("client", node: node1, app: "client"))
                """
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: manifest).succeeded)
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 2
            }, "both pods Ready")
            let ip = try await lab.jsonpath("svc/np", "{.spec.clusterIP}")
            let targetIP = try await lab.jsonpath("pod/target", "{.status.podIP}")
            let kubeconfig = try String(contentsOfFile: lab.kubeconfig, encoding: .utf8)
            let server = try #require(kubeconfig.split(separator: "\n").first { $0.contains("server:") }?.split(separator: " ").last)
            let client = HTTPClusterClient(endpoint: try #require(APIEndpoint(String(server))))
            defer { Task { await client.shutdown() } }

            var slice = EndpointSlice(
                metadata: ObjectMeta(name: "np-manual", namespace: "default", labels: ["kubernetes.io/service-name": "np"]),
                addressType: .ipv4, endpoints: [], ports: [EndpointPort(name: "", port: 8080, protocol: .tcp)])
            slice = try await client.create(slice)
            let prober = try BackgroundProcess(
                SwitchboardUp.executable,
                ["lab", "exec", "--name", lab.name, "pod/default/client", "--", "switchboard", "echo", "--query", "tcp://\(ip):80", "--watch", "--timeout", "0.5"],
                directory: lab.scratch)
            #expect(await eventually(within: .seconds(10)) { Self.transitions(prober.output).last?.outcome == "refused" }, "\(prober.errors)")

            var added: [Double] = []
            var removed: [Double] = []
            for _ in 0..<100 {
                for adding in [true, false] {
                    let seen = Self.transitions(prober.output).count
                    slice.endpoints = adding ? [Endpoint(addresses: [targetIP], conditions: EndpointConditions(ready: true, serving: true, terminating: false))] : []
                    let changed = Time.now()
                    // The change's own trigger time, as the EndpointSlice controller would write it: the proxier's
                    // network_programming_duration_seconds measures from there.
                    slice.metadata.annotations = ["endpoints.kubernetes.io/last-change-trigger-time": changed.rfc3339Nano]
                    slice = try await client.update(slice, subresource: nil)
                    let wanted = adding ? "pod=target" : "refused"
                    let arrived = await eventually(within: .seconds(5), every: .milliseconds(2)) {
                        Self.transitions(prober.output).dropFirst(seen).contains { $0.outcome == wanted }
                    }
                    #expect(arrived, "\(wanted) within 5 s: \(prober.output.suffix(300))")
                    guard arrived, let seenAt = Self.transitions(prober.output).dropFirst(seen).first(where: { $0.outcome == wanted }) else { continue }
                    let latency = seenAt.time - Self.seconds(changed)
                    if adding { added.append(latency) } else { removed.append(latency) }
                }
            }
            await prober.stop()
            func p(_ values: [Double], _ q: Double) -> Double { values.sorted()[min(values.count - 1, Int((Double(values.count) * q).rounded(.up)) - 1)] }
            #expect(added.count == 100 && removed.count == 100)
            guard added.count == 100, removed.count == 100 else { return }
            print(String(format: "\(mode.rawValue): network programming over 100 trials: ready → reached p50 %.1f ms p99 %.1f ms max %.1f ms; removed → unreached p50 %.1f ms p99 %.1f ms max %.1f ms",
                         p(added, 0.5) * 1000, p(added, 0.99) * 1000, added.max()! * 1000, p(removed, 0.5) * 1000, p(removed, 0.99) * 1000, removed.max()! * 1000))
            #expect(p(added, 0.99) <= 0.100, "endpoint ready → new connections reach it, p99 \(p(added, 0.99) * 1000) ms")
            #expect(p(removed, 0.99) <= 0.100, "endpoint removed → no new connection reaches it, p99 \(p(removed, 0.99) * 1000) ms")

            // The proxier measured the same changes from their trigger time.
            let script = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:10249/metrics', timeout=5).read().decode(), end='')"
            let metrics = try await lab.exec("node/node1", ["python3", "-c", script]).stdout
            let count = metrics.split(separator: "\n").first { $0.hasPrefix("kubeproxy_network_programming_duration_seconds_count") }
            #expect((count?.split(separator: " ").last).flatMap { Double($0) } ?? 0 >= 200, "\(count ?? "no network programming metric")")
            _ = node1
        }
    }
}
