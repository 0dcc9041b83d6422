#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import HostNetwork
import KubeAPI
import KubeClient
import KubeClientHTTP
import Lab
import Manifests
import UnixSignals

/// `switchboard demo`: the guided tour of ClusterIP on a lab.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "A guided tour of ClusterIP Services on a two-node lab (needs root).",
        discussion: "Brings up a lab, runs three echo pods behind a Service, shows the ClusterIP and its endpoints, deletes a pod to show the endpoints following, then removes the lab.")

    @Option(help: "The lab's name (its namespaces are sb-NAME-…).")
    var name = "demo"

    @Option(help: "The nodes' proxy mode: nftables, iptables or userspace.")
    var mode = "nftables"

    func run() async throws {
        guard getuid() == 0 else {
            throw CommandLineError("the demo builds a lab of network namespaces and needs root: run it with sudo")
        }
        _ = try ProxyOptions.mode(mode, flag: "--mode")
        let lab: LabCluster
        do {
            var cluster = LabCluster(topology: try LabTopology(name: name, nodes: 2), executable: ChildProcess.currentExecutable)
            cluster.proxyMode = mode
            lab = cluster
        } catch {
            throw CommandLineError(error.description)
        }
        // Ctrl-C, or a failure anywhere, still removes the lab.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await DemoTour(lab: lab).run() }
            group.addTask {
                for await signal in signals {
                    throw DemoInterrupted(signal: "\(signal)")
                }
            }
            defer { group.cancelAll() }
            do {
                try await group.next()
                await lab.down()
            } catch {
                await lab.down()
                if error is LabCluster.LabError { throw CommandLineError("\(error)") }
                throw error
            }
        }
        say("The lab is gone: no namespace, link or process of it is left.")
    }
}

struct DemoInterrupted: Error, CustomStringConvertible {
    var signal: String
    var description: String { "interrupted (\(signal)); the lab was removed" }
}

func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// The tour's steps, against a lab that `run` brings up.
struct DemoTour {
    let lab: LabCluster

    static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          selector: {app: echo}
          ports: [{name: tcp, port: 80, targetPort: tcp-echo}]
        """
        + (1...3).map { i in
            """

            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: echo-\(i), namespace: default, labels: {app: echo}}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: echo
                command: [switchboard, echo, --tcp, ":8080", --udp, ":5353"]
                ports: [{name: tcp-echo, containerPort: 8080}]
                readinessProbe:
                  tcpSocket: {port: tcp-echo}
                  periodSeconds: 1
            """
        }.joined()
        + """

        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: default, labels: {app: client}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: client
            command: [switchboard, echo, --tcp, ":9"]
        """

    func run() async throws {
        say("1. A lab: a control plane, two nodes (network namespaces) joined by a fabric, and an outside host.")
        try await lab.up { line in say("   \(line)") }
        let client = HTTPClusterClient(endpoint: lab.endpoint)
        defer { Task { await client.shutdown() } }

        say("2. Three pods labelled app=echo, and a Service named web whose selector is app=echo.")
        for object in try Manifest.objects(from: Self.manifest) {
            switch object {
            case .service(let service): _ = try await client.create(service)
            case .pod(let pod): _ = try await client.create(pod)
            default: break
            }
        }
        let pods = try await waitFor("the three pods to be Ready", client) { client in
            let pods = try await client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "app=echo")).items
            let helper = try await client.get(Pod.self, namespace: "default", name: "client")
            return pods.count == 3 && pods.allSatisfy(\.isReady) && helper.status.phase == .running ? pods : nil
        }
        say("   Each pod got its own IP on its node; the scheduler spread them, and a readiness probe made each Ready:")
        say(Self.table(["NAME", "READY", "IP", "NODE"], pods.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }.map { pod in
            [pod.metadata.name ?? "", pod.isReady ? "1/1" : "0/1", pod.status.podIP ?? "", pod.spec.nodeName ?? ""]
        }))

        let service = try await client.get(Service.self, namespace: "default", name: "web")
        let clusterIP = service.spec.clusterIP ?? ""
        say("3. The Service's ClusterIP, \(clusterIP), came from the service CIDR. It is a virtual IP: no interface has it,")
        say("   and it stays the same while the pods behind it come and go.")
        say(Self.table(["NAME", "TYPE", "CLUSTER-IP", "PORT(S)"], [[
            "web", service.spec.type?.rawValue ?? "ClusterIP", clusterIP,
            (service.spec.ports ?? []).map { "\($0.port)/\($0.protocol?.rawValue ?? "TCP")" }.joined(separator: ","),
        ]]))

        let slices = try await waitFor("the EndpointSlice to list three ready endpoints", client) { client in
            let slices = try await Self.slices(client)
            return Self.readyAddresses(slices).count == 3 ? slices : nil
        }
        say("4. The EndpointSlice controller lists the ready pods behind the Service: its endpoints.")
        say(Self.endpointTable(slices))

        say("5. Names: the cluster DNS (a switchboard dns pod behind the kube-dns Service, \(LabTopology.clusterDNSIP), which")
        say("   every pod's resolv.conf names) answers from the Services it watches. From the client pod:")
        for name in ["web", "web.default.svc.cluster.local"] {
            let answer = try await resolve(name)
            say("   \(name) → \(answer ?? "no answer")")
        }

        say("6. Traffic: the client pod opens 300 connections to web:80. " + Self.howTheProxyWorks(lab.proxyMode, clusterIP: clusterIP))
        let first = try await traffic(to: "web", count: 300)
        say(Self.table(["POD", "CONNECTIONS"], first.counts.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }))
        if first.failed > 0 { say("   \(first.failed) connections failed.") }

        let victim = pods.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }[0]
        let victimIP = victim.status.podIP ?? ""
        say("7. Deleting \(victim.metadata.name ?? ""): it turns terminating and leaves the ready endpoints at once,")
        say("   its process gets SIGTERM, and after it exits the pod, its namespace and its IP are gone.")
        try await client.delete(Pod.self, namespace: "default", name: victim.metadata.name ?? "")
        let after = try await waitFor("the endpoints to follow", client) { client in
            let slices = try await Self.slices(client)
            let ready = Self.readyAddresses(slices)
            let all = slices.flatMap { $0.endpoints }.flatMap(\.addresses)
            return ready.count == 2 && !all.contains(victimIP) ? slices : nil
        }
        say(Self.endpointTable(after))
        say("   Two endpoints remain; the ClusterIP \(clusterIP) did not change. 300 more connections:")
        let second = try await traffic(to: "web", count: 300)
        say(Self.table(["POD", "CONNECTIONS"], second.counts.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }))
        say("   \(second.failed == 0 ? "None failed" : "\(second.failed) failed"): traffic moved to the pods that remain.")

        say("8. The outside host has a route to the service CIDR through node 1, yet the ClusterIP is internal:")
        let outside = try await NetworkNamespaces().exec(
            lab.topology.outsideNamespace, [ChildProcess.currentExecutable, "echo", "--query", "tcp://\(clusterIP):80", "--timeout", "1"],
            timeout: .seconds(10))
        let refusal = lab.proxyMode == "userspace" ? "refused: the node's relay serves pods and the node only" : "no answer, the node dropped it"
        say("   outside → \(clusterIP):80: " + (outside.succeeded ? "answered (unexpected!)" : refusal))
        say("9. Removing the lab.")
    }

    /// Step 6's explanation, per mode.
    static func howTheProxyWorks(_ mode: String, clusterIP: String) -> String {
        switch mode {
        case "iptables":
            return """
                The node's proxy (iptables) has a chain for the
                   Service that picks a ready pod at random (statistic 1/3, 1/2, 1) and DNATs \(clusterIP):80 to it; the pods see
                   the client's own address.
                """
        case "userspace":
            return """
                The node's proxy (userspace) listens on
                   \(clusterIP):80 itself and relays each connection to the next ready pod (round robin); the pods see the node's
                   address, as the relay opens the connection to them.
                """
        default:
            return """
                The node's proxy (nftables) turns each
                   connection to \(clusterIP):80 into one to a ready pod, chosen at random; the pods see the client's own address.
                """
        }
    }

    /// What `name` resolves to in the client pod, through its resolv.conf (getent: the C library's resolver,
    /// as an application would ask).
    func resolve(_ name: String) async throws -> String? {
        let namespace = try await lab.namespace(of: "pod/default/client")
        let result = try await NetworkNamespaces().exec(namespace, ["getent", "hosts", name], timeout: .seconds(10))
        guard result.succeeded, let line = result.stdout.split(separator: "\n").first else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count >= 2 ? "\(fields[0]) (\(fields[1]))" : String(line)
    }

    /// `count` connections from the client pod to `ip`:80, counted by the pod that answered.
    func traffic(to ip: String, count: Int) async throws -> (counts: [String: Int], failed: Int) {
        let namespace = try await lab.namespace(of: "pod/default/client")
        let result = try await NetworkNamespaces().exec(
            namespace, [ChildProcess.currentExecutable, "echo", "--query", "tcp://\(ip):80", "--count", String(count), "--timeout", "2"],
            timeout: .seconds(120))
        var counts: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let field = line.split(separator: " ").first, field.hasPrefix("pod=") else { continue }
            counts[String(field.dropFirst(4)), default: 0] += 1
        }
        return (counts, count - counts.values.reduce(0, +))
    }

    static func slices(_ client: HTTPClusterClient) async throws -> [EndpointSlice] {
        try await client.list(EndpointSlice.self, namespace: "default", options: ListOptions(labelSelector: "kubernetes.io/service-name=web")).items
    }

    static func readyAddresses(_ slices: [EndpointSlice]) -> [String] {
        slices.flatMap { $0.endpoints }.filter { $0.conditions.ready == true }.flatMap(\.addresses)
    }

    static func endpointTable(_ slices: [EndpointSlice]) -> String {
        let rows = slices.flatMap { slice in
            slice.endpoints.map { endpoint in
                [
                    endpoint.addresses.joined(separator: ","), endpoint.targetRef?.name ?? "", endpoint.nodeName ?? "",
                    endpoint.conditions.ready == true ? "true" : "false",
                    endpoint.conditions.terminating == true ? "true" : "false",
                ]
            }
        }.sorted { $0[1] < $1[1] }
        return table(["ADDRESS", "POD", "NODE", "READY", "TERMINATING"], rows)
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            "   " + row.indices.map { row[$0] + String(repeating: " ", count: widths[$0] + 3 - row[$0].count) }.joined()
        }.joined(separator: "\n")
    }

    func waitFor<T>(_ what: String, _ client: HTTPClusterClient, timeout: Duration = .seconds(60), _ check: (HTTPClusterClient) async throws -> T?) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let value = try? await check(client) { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandLineError("timed out waiting for \(what); the lab's logs are in \(lab.directory)")
    }
}
