import Foundation
import Testing

/// The proxier with real traffic in a lab, in each proxy mode: which pod answered, whether the source was
/// masqueraded, a refusal versus silence (the behaviour cases of the data-plane reference, section 5). Each
/// mode's differences (`LabProxyMode`) are part of the expectations.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root, iproute2 and nftables"), .timeLimit(.minutes(5)))
struct ProxyTrafficTests {
    static func pod(_ name: String, node: String, app: String = "echo") -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), labels: {app: \(app)}}
        spec:
          nodeName: \(node)
          terminationGracePeriodSeconds: 2
          containers:
          - name: main
            command: [switchboard, echo, --tcp, ":8080", --udp, ":5353"]
            ports: [{name: tcp-echo, containerPort: 8080}, {name: udp-echo, containerPort: 5353, protocol: UDP}]
            readinessProbe: {tcpSocket: {port: tcp-echo}, periodSeconds: 1}
        """
    }

    static let services = """
        apiVersion: v1
        kind: Service
        metadata: {name: echo}
        spec:
          selector: {app: echo}
          ports: [{name: tcp, port: 80, targetPort: tcp-echo}, {name: udp, port: 53, protocol: UDP, targetPort: udp-echo}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: empty}
        spec:
          selector: {app: nobody}
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: local}
        spec:
          selector: {app: remote}
          internalTrafficPolicy: Local
          ports: [{port: 80, targetPort: 8080}]
        """

    /// The pod names of `answers` (`pod=NAME client=…` lines), counted.
    static func tally(_ answers: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in answers.split(separator: "\n") {
            guard let field = line.split(separator: " ").first, field.hasPrefix("pod=") else { continue }
            counts[String(field.dropFirst(4)), default: 0] += 1
        }
        return counts
    }

    @Test(arguments: LabProxyMode.available)
    func clusterIPsBalanceEvenlyRefuseDropAndStayInside(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let manifest = [
                Self.services, Self.pod("e1", node: node1), Self.pod("e2", node: node2), Self.pod("e3", node: node1),
                Self.pod("r1", node: node2, app: "remote"), Self.pod("client", node: node1, app: "client"),
            ].joined(separator: "\n---\n")
            let applied = try await lab.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(applied.succeeded, "\(applied.transcript)")
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 5
            }, "every pod Ready")
            let ip = try await lab.jsonpath("svc/echo", "{.spec.clusterIP}")
            let emptyIP = try await lab.jsonpath("svc/empty", "{.spec.clusterIP}")
            let localIP = try await lab.jsonpath("svc/local", "{.spec.clusterIP}")
            let clientIP = try await lab.jsonpath("pod/client", "{.status.podIP}")
            let e1IP = try await lab.jsonpath("pod/e1", "{.status.podIP}")

            // Case 1 and 3: DNAT to every ready pod, evenly; the pod sees the client's own address (no masquerade;
            // in userspace mode the node's, as the relay connects to the pod itself).
            var answers = ""
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let probe = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--timeout", "1"])
                return probe.succeeded
            }, "the Service answers once the proxier has programmed it")
            let many = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "3000"], timeout: .seconds(120))
            #expect(many.succeeded, "\(many.stderr)")
            answers = many.stdout
            let counts = Self.tally(answers)
            #expect(counts.values.reduce(0, +) == 3000)
            for pod in ["e1", "e2", "e3"] {
                let share = Double(counts[pod] ?? 0) / 3000
                #expect(abs(share - 1.0 / 3) <= mode.spreadTolerance, "\(pod) took \(share * 100)%: \(counts)")
            }
            if mode.podSeesClientAddress {
                #expect(answers.split(separator: "\n").allSatisfy { $0.contains(" client=\(clientIP):") }, "no masquerade for a pod client")
            } else {
                #expect(answers.split(separator: "\n").allSatisfy { $0.contains(" client=10.244.1.1:") || $0.contains(" client=10.200.1.2:") },
                    "the relay's own connection, from node 1's address towards the pod")
            }

            // Case 5: UDP is its own Service port.
            let udp = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "udp://\(ip):53", "--count", "20"])
            #expect(udp.succeeded && Self.tally(udp.stdout).values.reduce(0, +) == 20, "\(udp.transcript)")

            // Case 2: a pod reaching itself through its Service is masqueraded (its own address would not return).
            let hairpin = try await lab.exec("pod/default/e1", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "60"])
            let own = hairpin.stdout.split(separator: "\n").filter { $0.hasPrefix("pod=e1 ") }
            #expect(!own.isEmpty && own.allSatisfy { !$0.contains("client=\(e1IP):") }, "\(hairpin.transcript)")

            // Cases 6, 7, 9: refused at once; 8 and 14: silence.
            let refusals: [(String, String)] = [
                ("udp://\(ip):80", "a protocol the Service does not define"), ("tcp://\(ip):443", "a port the Service does not define"),
                ("tcp://\(emptyIP):80", "a Service without endpoints"),
            ]
            for (target, what) in refusals {
                let result = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", target, "--timeout", "2"])
                #expect(!result.succeeded && result.stderr.contains("refused"), "\(what): \(result.transcript)")
            }
            let silences: [(String, String)] = [
                ("tcp://10.96.255.254:80", "an address of the service CIDR that no Service holds"),
                ("tcp://\(localIP):80", "internalTrafficPolicy Local with endpoints on other nodes only"),
            ]
            for (target, what) in silences {
                let result = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", target, "--timeout", "1"])
                #expect(!result.succeeded && result.stderr.contains(mode.silenceWord), "\(what): \(result.transcript)")
            }

            // Case 15: the node itself reaches the ClusterIP, masqueraded to one of its own addresses.
            let fromNode = try await lab.exec("node/node1", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "10"])
            #expect(fromNode.succeeded, "\(fromNode.transcript)")
            #expect(fromNode.stdout.split(separator: "\n").allSatisfy { $0.contains("client=10.244.1.1:") || $0.contains("client=10.200.1.2:") }, "\(fromNode.stdout)")

            // Internal only: the outside host has a route to the service CIDR, and still gets nothing.
            let outside = try await lab.exec("outside", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--timeout", "1"])
            #expect(!outside.succeeded && mode.outsideKeptOut(outside.stderr), "\(outside.transcript)")

            // Case 10: endpoints follow pods; traffic stops reaching a deleted pod.
            #expect(try await lab.kubectl("delete", "pod", "e3", "--wait=false").succeeded)
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let after = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "30"])
                return after.succeeded && Self.tally(after.stdout)["e3"] == nil
            })
        }
    }

    /// The proxier's processes on node 1 of `lab`.
    static func proxyPIDs(_ lab: LabHarness) -> [Int32] {
        lab.processes().filter { $0.contains(" proxy ") && $0.contains("\(lab.name)-node1 ") }.compactMap { Int32($0.prefix { $0 != ":" }) }
    }

    /// nftables adopts its table and rewrites nothing; iptables writes its chains again (the same rules);
    /// both keep established connections (conntrack holds their DNAT). A userspace relay's connections live in
    /// its process and end with it; new ones work once the new relay listens.
    @Test(arguments: LabProxyMode.available)
    func restartingTheProxierKeepsConnectionsAndRules(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: [Self.services, Self.pod("e1", node: "\(lab.name)-node2")].joined(separator: "\n---\n")).succeeded)
            #expect(try await eventually(within: .seconds(30)) {
                try await lab.jsonpath("pod/e1", #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True"
            })
            let ip = try await lab.jsonpath("svc/echo", "{.spec.clusterIP}")
            let gate = lab.scratch.appendingPathComponent("go").path
            // One TCP connection through the ClusterIP, held open across the restarts: a greeting now, a second
            // answer only after the test says go.
            let holder = """
                apiVersion: v1
                kind: Pod
                metadata: {name: holder}
                spec:
                  nodeName: \(node1)
                  restartPolicy: Never
                  containers:
                  - name: main
                    command: [bash, -c, 'exec 3<>/dev/tcp/\(ip)/80; read -r a <&3; echo "first $a"; while [ ! -e \(gate) ]; do sleep 0.05; done; echo again >&3; read -r b <&3; echo "second $b"']
                """
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: holder).succeeded)
            #expect(try await eventually(within: .seconds(30)) { try await lab.kubectl("logs", "holder").stdout.contains("first pod=e1") })
            let before = try await lab.rules(mode)

            // SIGTERM, then kill -9; each time a new proxier starts and adopts the table.
            for signal in [SIGTERM, SIGKILL] {
                let pids = Self.proxyPIDs(lab)
                #expect(pids.count == 1, "\(lab.processes())")
                for pid in pids { kill(pid, signal) }
                #expect(await eventually(within: .seconds(10)) { Self.proxyPIDs(lab).isEmpty })
                let restarted = try await lab.switchboard(["lab", "restart-proxy", "--name", lab.name, "--node", "1"])
                #expect(restarted.succeeded, "\(restarted.transcript)")
                let log = lab.directory + "/node1/proxy.log"
                // nftables: the adoption; the others: each start (a periodic resync also logs full syncs).
                let marker = mode == .nftables ? "adopted the existing ip switchboard table" : "proxy mode \(mode.rawValue)"
                #expect(await eventually(within: .seconds(10)) {
                    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    return text.components(separatedBy: marker).count - 1 == (signal == SIGTERM ? 2 : 3) - (mode == .nftables ? 1 : 0)
                }, "the new proxier takes over (\(marker))")
            }
            if mode == .nftables {
                let log = (try? String(contentsOfFile: lab.directory + "/node1/proxy.log", encoding: .utf8)) ?? ""
                let afterAdoption = log.components(separatedBy: "adopted the existing ip switchboard table").dropFirst().joined()
                #expect(!afterAdoption.contains("full sync"), "a restarted proxier rewrites nothing: \(log)")
            }
            #expect(try await eventually(within: .seconds(10)) { try await lab.rules(mode) == before }, "the same rules")
            #expect(try await eventually(within: .seconds(10)) {
                try await lab.exec("pod/default/e1", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--timeout", "1"]).succeeded
            }, "new connections work after the restarts")

            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            if mode == .userspace {
                #expect(try await eventually(within: .seconds(10)) {
                    let logs = try await lab.kubectl("logs", "holder").stdout
                    return logs.contains("second") && !logs.contains("second pod=e1")
                }, "the relayed connection ended with the relay's process")
            } else {
                #expect(try await eventually(within: .seconds(10)) { try await lab.kubectl("logs", "holder").stdout.contains("second pod=e1") },
                    "the connection survived both restarts")
            }
        }
    }

    /// 20 selector-less Services with hand-written EndpointSlices of 0 to 3 endpoints.
    static func manualServices() -> String {
        var documents: [String] = []
        for i in 0..<20 {
            documents.append("""
                apiVersion: v1
                kind: Service
                metadata: {name: s\(i)}
                spec:
                  ports: [{port: \(80 + i)}]
                """)
            let endpoints = (0..<(i % 4)).map { "{addresses: [10.244.9.\(i * 4 + $0 + 1)], conditions: {ready: true}}" }.joined(separator: ", ")
            documents.append("""
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: s\(i)-1, labels: {kubernetes.io/service-name: s\(i)}}
                addressType: IPv4
                ports: [{name: "", port: 8080, protocol: TCP}]
                endpoints: [\(endpoints)]
                """)
        }

        return documents.joined(separator: "\n---\n")
    }

    @Test func aRulesetRoundTripsThroughTheKernel() async throws {
        try await withLab(nodes: 1) { lab in
            let applied = try await lab.kubectl("apply", "-f", "-", stdin: Self.manualServices())
            #expect(applied.succeeded, "\(applied.transcript)")
            #expect(try await eventually(within: .seconds(10)) {
                let listing = try await lab.exec("node/node1", ["nft", "list", "map", "ip", "switchboard", "backends-3"])
                return listing.stdout.contains("10.244.9.") && listing.stdout.components(separatedBy: " : 10.244.9.").count - 1 == 15
            }, "five Services with 3 endpoints each")
            // The proxier's health and metrics, on the node's loopback as kube-proxy serves them.
            func get(_ port: Int, _ path: String) async throws -> String {
                let script = "import urllib.request as u; r = u.urlopen('http://127.0.0.1:\(port)\(path)', timeout=5); print(r.status); print(r.read().decode(), end='')"
                return try await lab.exec("node/node1", ["python3", "-c", script], timeout: .seconds(15)).stdout
            }
            let health = try await get(10256, "/healthz")
            #expect(health == "200\nok\n", "\(health)")
            var metrics = ""
            #expect(try await eventually(within: .seconds(5)) {
                metrics = try await get(10249, "/metrics")
                return metrics.contains("switchboard_proxy_service_ports 23")
            }, "20 Services, the kubernetes one and kube-dns's two ports: \(metrics)")
            #expect(metrics.contains("kubeproxy_sync_proxy_rules_duration_seconds"))
            #expect(metrics.contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds"))
            #expect(metrics.contains("switchboard_proxy_endpoints 32"), "0+1+2+3 endpoints, five times, and the DNS pod on two ports: \(metrics)")
        }
    }

    /// The kernel modes clear the flow's conntrack entry; the relay closes the flow whose endpoint left.
    @Test(arguments: LabProxyMode.available)
    func aUDPFlowToARemovedEndpointIsBalancedAgain(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let manifest = [Self.services, Self.pod("u1", node: node2), Self.pod("u2", node: node2), Self.pod("client", node: node1, app: "client")].joined(separator: "\n---\n")
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: manifest).succeeded)
            #expect(try await eventually(within: .seconds(30)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 3
            })
            let ip = try await lab.jsonpath("svc/echo", "{.spec.clusterIP}")
            // The same flow (one source port) before and after its endpoint goes away.
            let query = ["switchboard", "echo", "--query", "udp://\(ip):53", "--source-port", "40053", "--timeout", "2"]
            let first = try await lab.exec("pod/default/client", query)
            #expect(first.succeeded, "\(first.transcript)")
            let answered = first.stdout.hasPrefix("pod=u1") ? "u1" : "u2"
            let other = answered == "u1" ? "u2" : "u1"
            #expect(try await lab.kubectl("delete", "pod", answered, "--grace-period=1", "--wait=true").succeeded)
            #expect(try await eventually(within: .seconds(10)) {
                try await lab.jsonpath("endpointslices", "{.items[*].endpoints[*].targetRef.name}").contains(answered) == false
            })
            let second = try await lab.exec("pod/default/client", query)
            let logs = second.stdout + second.stderr
            #expect(second.succeeded && logs.hasPrefix("pod=\(other) "), "the flow's conntrack entry to \(answered) was cleared: \(logs)")
        }
    }

    /// Case 22: with `sessionAffinity: ClientIP`, new connections from one client go to one endpoint, whatever
    /// their source port, until the pin lapses or its endpoint goes.
    ///
    /// Where the pin lives: nftables, a timeout set per endpoint (visible, lapses by itself); iptables, a
    /// `recent` list per endpoint (visible in /proc/net/xt_recent; an old entry stays until the next check
    /// reaps it); userspace, the relay's memory (nothing in the kernel).
    @Test(arguments: LabProxyMode.available)
    func clientIPAffinityPinsAClientToOneEndpoint(mode: LabProxyMode) async throws {
        try await withLab(mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let sticky = """
                apiVersion: v1
                kind: Service
                metadata: {name: sticky}
                spec:
                  selector: {app: echo}
                  sessionAffinity: ClientIP
                  sessionAffinityConfig: {clientIP: {timeoutSeconds: 3}}
                  ports: [{name: tcp, port: 80, targetPort: tcp-echo}]
                """
            let manifest = [sticky, Self.pod("a1", node: node1), Self.pod("a2", node: node2), Self.pod("a3", node: node2), Self.pod("client", node: node1, app: "client")]
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: manifest.joined(separator: "\n---\n")).succeeded)
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 4
            }, "every pod Ready")
            #expect(try await eventually(within: .seconds(10)) {
                try await lab.jsonpath("endpointslices", "{.items[*].endpoints[*].targetRef.name}").split(separator: " ").count == 3 + 0
            })
            let ip = try await lab.jsonpath("svc/sticky", "{.spec.clusterIP}")
            let clientIP = try await lab.jsonpath("pod/client", "{.status.podIP}")
            // 60 connections, each from a new source port: one pod answers them all.
            var pinned = ""
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "60"])
                let counts = Self.tally(run.stdout)
                pinned = counts.keys.first ?? ""
                return run.succeeded && counts.count == 1 && counts.values.first == 60
            }, "one pod answers every connection of one client")
            // The pin is the client's address in its endpoint's timeout set, and it lapses after 3 idle seconds.
            let recent = ["sh", "-c", "cat /proc/net/xt_recent/* 2>/dev/null; true"]
            switch mode {
            case .nftables:
                let sets = try await lab.exec("node/node1", ["nft", "list", "sets", "ip"])
                #expect(sets.stdout.contains("\(clientIP) expires"), "\(sets.stdout)")
                #expect(try await eventually(within: .seconds(10), every: .milliseconds(250)) {
                    try await !lab.exec("node/node1", ["nft", "list", "sets", "ip"]).stdout.contains("\(clientIP) expires")
                }, "the pin lapses")
            case .iptables:
                let lists = try await lab.exec("node/node1", recent)
                #expect(lists.stdout.contains("src=\(clientIP) "), "\(lists.transcript)")
            case .userspace:
                let lists = try await lab.exec("node/node1", recent)
                let sets = try await lab.exec("node/node1", ["nft", "list", "sets", "ip"])
                #expect(!lists.stdout.contains(clientIP) && !sets.stdout.contains(clientIP), "no pin in the kernel: \(lists.stdout) \(sets.stdout)")
            }
            // The pinned pod goes: the client is placed again, and sticks to its new pod.
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "20"])
                let counts = Self.tally(run.stdout)
                pinned = counts.keys.first ?? ""
                return run.succeeded && counts.count == 1
            })
            #expect(try await lab.kubectl("delete", "pod", pinned, "--wait=false").succeeded)
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ip):80", "--count", "20"])
                let counts = Self.tally(run.stdout)
                return run.succeeded && counts.count == 1 && counts[pinned] == nil
            }, "after \(pinned) went, the client sticks to another pod")
        }
    }

    /// Case 23: an IPv6 ClusterIP behaves as an IPv4 one (balanced, not masqueraded, hairpin, refusal,
    /// silence for an unallocated address, internal only), from its own `ip6` table.
    @Test(arguments: LabProxyMode.available)
    func dualStackServicesWorkOverIPv6FromTheirOwnTable(mode: LabProxyMode) async throws {
        try await withLab(ipFamily: "dual", mode: mode) { lab in
            let node1 = "\(lab.name)-node1"
            let node2 = "\(lab.name)-node2"
            let service = """
                apiVersion: v1
                kind: Service
                metadata: {name: echo}
                spec:
                  selector: {app: echo}
                  ipFamilyPolicy: RequireDualStack
                  ports: [{name: tcp, port: 80, targetPort: tcp-echo}]
                """
            let manifest = [service, Self.pod("e1", node: node1), Self.pod("e2", node: node2), Self.pod("client", node: node1, app: "client")]
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: manifest.joined(separator: "\n---\n")).succeeded)
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 3
            }, "every pod Ready")
            let ips = try await lab.jsonpath("svc/echo", "{.spec.clusterIPs[*]}").split(separator: " ").map(String.init)
            #expect(ips.count == 2, "\(ips)")
            guard ips.count == 2 else { return }
            let v6 = ips[1]
            let clientIPs = try await lab.jsonpath("pod/client", "{.status.podIPs[*].ip}").split(separator: " ").map(String.init)
            let e1IPs = try await lab.jsonpath("pod/e1", "{.status.podIPs[*].ip}").split(separator: " ").map(String.init)
            #expect(clientIPs.count == 2 && e1IPs.count == 2)
            guard clientIPs.count == 2, e1IPs.count == 2 else { return }

            var many = ""
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let run = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://[\(v6)]:80", "--count", "300"], timeout: .seconds(60))
                many = run.stdout
                return run.succeeded
            }, "the IPv6 ClusterIP answers")
            let counts = Self.tally(many)
            #expect(counts.values.reduce(0, +) == 300)
            for pod in ["e1", "e2"] {
                #expect(abs(Double(counts[pod] ?? 0) / 300 - 0.5) <= 0.1, "\(pod): \(counts)")
            }
            if mode.podSeesClientAddress {
                #expect(many.split(separator: "\n").allSatisfy { $0.contains(" client=[\(clientIPs[1])]:") }, "no masquerade for a pod client")
            } else {
                #expect(many.split(separator: "\n").allSatisfy { !$0.contains(" client=[\(clientIPs[1])]:") }, "the relay connects from the node")
            }
            let v4 = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://\(ips[0]):80", "--count", "10"])
            #expect(v4.succeeded, "the IPv4 ClusterIP of the same Service: \(v4.transcript)")

            let hairpin = try await lab.exec("pod/default/e1", ["switchboard", "echo", "--query", "tcp://[\(v6)]:80", "--count", "40"])
            let own = hairpin.stdout.split(separator: "\n").filter { $0.hasPrefix("pod=e1 ") }
            #expect(!own.isEmpty && own.allSatisfy { !$0.contains("client=[\(e1IPs[1])]:") }, "hairpin is masqueraded: \(hairpin.transcript)")

            let refused = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://[\(v6)]:443", "--timeout", "2"])
            #expect(!refused.succeeded && refused.stderr.contains("refused"), "\(refused.transcript)")
            let silent = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://[fd00:10:96::fffe]:80", "--timeout", "1"])
            #expect(!silent.succeeded && silent.stderr.contains(mode.silenceWord), "\(silent.transcript)")
            let outside = try await lab.exec("outside", ["switchboard", "echo", "--query", "tcp://[\(v6)]:80", "--timeout", "1"])
            #expect(!outside.succeeded && mode.outsideKeptOut(outside.stderr), "\(outside.transcript)")

            switch mode {
            case .nftables:
                let tables = try await lab.exec("node/node1", ["nft", "list", "tables"])
                #expect(tables.stdout.contains("table ip switchboard") && tables.stdout.contains("table ip6 switchboard"), "\(tables.stdout)")
                let v6Map = try await lab.exec("node/node1", ["nft", "list", "map", "ip6", "switchboard", "service-ips"])
                #expect(v6Map.stdout.contains(v6) && !v6Map.stdout.contains(ips[0]), "\(v6Map.stdout)")
            case .iptables:
                let v6Rules = try await lab.exec("node/node1", ["ip6tables-save", "-t", "nat"])
                #expect(v6Rules.stdout.contains("-d \(v6)/128") && !v6Rules.stdout.contains(ips[0]), "\(v6Rules.stdout)")
            case .userspace:
                let tables = try await lab.exec("node/node1", ["nft", "list", "tables"])
                #expect(!tables.stdout.contains("switchboard"), "no rules in userspace mode: \(tables.stdout)")
            }
        }
    }
}
