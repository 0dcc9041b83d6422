import Foundation
import Testing

/// Nodes, pods and the lab, end to end as root: real network namespaces, real processes, real traffic
/// between pods, observed through kubectl and `switchboard lab exec`.
@Suite(.serialized, .enabled(if: labAvailable, "needs root and iproute2"), .timeLimit(.minutes(5)))
struct LabClusterTests {
    static func echoPod(_ name: String, node: String? = nil, labels: String = "{app: echo}", command: String? = nil, probe: String = "", grace: Int = 30) -> String {
        let exe = SwitchboardUp.executable
        let commandLine = command ?? #"["switchboard", "echo", "--tcp", ":8080", "--udp", ":5353"]"#
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), labels: \(labels)}
            spec:
              \(node.map { "nodeName: \($0)" } ?? "")
              terminationGracePeriodSeconds: \(grace)
              containers:
              - name: main
                command: \(commandLine.replacingOccurrences(of: "EXE", with: exe))
                ports: [{name: echo, containerPort: 8080}]
            \(probe)
            """
    }

    static let service = """
        apiVersion: v1
        kind: Service
        metadata: {name: echo}
        spec:
          selector: {app: echo}
          ports: [{port: 80, targetPort: echo}]
        """

    /// The endpoint conditions of `ip` in the echo Service's slices: "ready serving terminating", or "".
    static func conditions(_ lab: LabHarness, ip: String) async throws -> String {
        let path = #"{range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready} {.conditions.serving} {.conditions.terminating}{"\n"}{end}"#
        let lines = try await lab.jsonpath("endpointslices", path).split(separator: "\n")
        return lines.first { $0.hasPrefix(ip + " ") }.map { String($0.dropFirst(ip.count + 1)) } ?? ""
    }

    @Test func readinessProbesDecideEndpoints() async throws {
        try await withLab { lab in
            let gate = lab.scratch.appendingPathComponent("listen").path
            let ready = lab.scratch.appendingPathComponent("ready").path
            // `slow` opens its port only once the test says so; `file` is ready while a file exists.
            let slow = Self.echoPod(
                "slow", command: #"["sh", "-c", "while [ ! -e \#(gate) ]; do sleep 0.05; done; exec EXE echo --tcp :8080"]"#,
                probe: "    readinessProbe: {tcpSocket: {port: echo}, periodSeconds: 1}")
            let file = Self.echoPod(
                "file", probe: "    readinessProbe: {exec: {command: [test, -e, \(ready)]}, periodSeconds: 1, failureThreshold: 2}")
            let applied = try await lab.kubectl("apply", "-f", "-", stdin: [Self.service, slow, file].joined(separator: "\n---\n"))
            #expect(applied.succeeded, "\(applied.transcript)")

            var slowIP = ""
            #expect(try await eventually(within: .seconds(30)) {
                slowIP = try await lab.jsonpath("pod/slow", "{.status.podIP}")
                if slowIP.isEmpty { return false }
                return try await Self.conditions(lab, ip: slowIP) == "false false false"
            }, "slow's endpoint is listed, not ready, while its port does not answer")
            #expect(try await lab.jsonpath("pod/slow", #"{.status.conditions[?(@.type=="Ready")].status}"#) == "False")
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            #expect(try await eventually(within: .seconds(5)) { try await Self.conditions(lab, ip: slowIP) == "true true false" },
                "ready once the port answers")
            #expect(try await lab.jsonpath("pod/slow", #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True")

            _ = FileManager.default.createFile(atPath: ready, contents: nil)
            var fileIP = ""
            #expect(try await eventually(within: .seconds(30)) {
                fileIP = try await lab.jsonpath("pod/file", "{.status.podIP}")
                if fileIP.isEmpty { return false }
                return try await Self.conditions(lab, ip: fileIP) == "true true false"
            })
            // failureThreshold × periodSeconds + 1 s after the probe starts failing, the endpoint is not ready.
            try FileManager.default.removeItem(atPath: ready)
            let failedAt = ContinuousClock.now
            #expect(try await eventually(within: .seconds(3), every: .milliseconds(50)) { try await Self.conditions(lab, ip: fileIP) == "false false false" })
            print("readiness lost after \(ContinuousClock.now - failedAt)")
        }
    }

    @Test func podsReachPodsOnTheOtherNode() async throws {
        try await withLab { lab in
            let applied = try await lab.kubectl(
                "apply", "-f", "-", stdin: [Self.echoPod("a", node: "\(lab.name)-node1", probe: "    readinessProbe: {tcpSocket: {port: echo}, periodSeconds: 1}"), Self.echoPod("b", node: "\(lab.name)-node2", probe: "    readinessProbe: {tcpSocket: {port: echo}, periodSeconds: 1}")].joined(separator: "\n---\n"))
            #expect(applied.succeeded, "\(applied.transcript)")
            var ips: [String] = []
            #expect(try await eventually(within: .seconds(30)) {
                ips = try await lab.kubectl("get", "pods", "a", "b", "-o", #"jsonpath={.items[*].status.podIP}"#).stdout.split(separator: " ").map(String.init)
                let ready = try await lab.kubectl("get", "pods", "a", "b", "-o", #"jsonpath={.items[*].status.containerStatuses[0].ready}"#).stdout
                return ips.count == 2 && ready == "true true"
            })
            guard ips.count == 2 else { return }
            #expect(ips[0].hasPrefix("10.244.1.") && ips[1].hasPrefix("10.244.2."), "\(ips)")
            let tcp = try await lab.exec("pod/default/a", ["switchboard", "echo", "--query", "tcp://\(ips[1]):8080"])
            #expect(tcp.succeeded && tcp.stdout.hasPrefix("pod=b client=\(ips[0]):"), "\(tcp.transcript)")
            let udp = try await lab.exec("pod/default/b", ["switchboard", "echo", "--query", "udp://\(ips[0]):5353"])
            #expect(udp.succeeded && udp.stdout.hasPrefix("pod=a client=\(ips[1]):"), "\(udp.transcript)")
            // kubectl logs reads what the container wrote.
            let logs = try await lab.kubectl("logs", "b")
            #expect(logs.stdout.contains("echo: tcp listening on 0.0.0.0:8080"), "\(logs.transcript)")
            // Pods see the cluster DNS and search path through their own resolv.conf.
            let resolv = try await lab.exec("pod/default/a", ["cat", "/etc/resolv.conf"])
            #expect(resolv.stdout.contains("search default.svc.cluster.local svc.cluster.local cluster.local\n"), "\(resolv.transcript)")
            #expect(resolv.stdout.contains("nameserver 10.96.0.10\n") && resolv.stdout.contains("options ndots:5"))
        }
    }

    @Test func dualStackPodsGetAnAddressPerFamily() async throws {
        try await withLab(ipFamily: "dual") { lab in
            let applied = try await lab.kubectl(
                "apply", "-f", "-", stdin: [Self.echoPod("a", node: "\(lab.name)-node1", probe: "    readinessProbe: {tcpSocket: {port: echo}, periodSeconds: 1}"), Self.echoPod("b", node: "\(lab.name)-node2", probe: "    readinessProbe: {tcpSocket: {port: echo}, periodSeconds: 1}")].joined(separator: "\n---\n"))
            #expect(applied.succeeded, "\(applied.transcript)")
            var ips: [String] = []
            #expect(try await eventually(within: .seconds(30)) {
                ips = try await lab.kubectl("get", "pods", "a", "b", "-o", #"jsonpath={range .items[*]}{.status.podIPs[*].ip}{" "}{end}"#).stdout
                    .split(separator: " ").map(String.init)
                return ips.count == 4
            })
            guard ips.count == 4 else { return }
            // One address of each family from each node's pod CIDRs (node 1 also runs the cluster DNS pod).
            let prefixes = ["10.244.1.", "fd00:10:244:1::", "10.244.2.", "fd00:10:244:2::"]
            #expect(zip(ips, prefixes).allSatisfy { $0.hasPrefix($1) }, "\(ips)")
            // b's server may still be starting: ask until it answers (bounded).
            var tcp: ProcessResult?
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(200)) {
                tcp = try await lab.exec("pod/default/a", ["switchboard", "echo", "--query", "tcp://[\(ips[3])]:8080", "--timeout", "1"])
                return tcp?.succeeded == true
            }, "\(tcp?.transcript ?? "")")
            #expect(tcp?.stdout.hasPrefix("pod=b client=[\(ips[1])]:") == true, "\(tcp?.transcript ?? "")")
        }
    }

    @Test func deletionIsGracefulAndLeavesNothing() async throws {
        try await withLab { lab in
            let marker = lab.scratch.appendingPathComponent("sigterm").path
            let node = "\(lab.name)-node1"
            let pod = Self.echoPod(
                "bye", node: node,
                command: #"["sh", "-c", "trap 'echo TERM > \#(marker); sleep 2; exit 0' TERM; while :; do sleep 0.1; done"]"#, grace: 10)
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: [Self.service, pod].joined(separator: "\n---\n")).succeeded)
            var ip = ""
            var uid = ""
            #expect(try await eventually(within: .seconds(30)) {
                ip = try await lab.jsonpath("pod/bye", "{.status.podIP}")
                if ip.isEmpty { return false }
                return try await Self.conditions(lab, ip: ip) == "true true false"
            })
            uid = try await lab.jsonpath("pod/bye", "{.metadata.uid}")
            let hex = String(uid.filter(\.isHexDigit).prefix(12))
            let namespace = "sb-\(lab.name)-node1-p-\(hex)"
            #expect(lab.namespaces().contains(namespace))

            let deleted = try await lab.kubectl("delete", "pod", "bye", "--wait=false")
            #expect(deleted.succeeded, "\(deleted.transcript)")
            #expect(try await eventually(within: .seconds(5)) { try await Self.conditions(lab, ip: ip) == "false true true" },
                "the endpoint shows terminating while the pod handles SIGTERM")
            #expect(try await eventually(within: .seconds(5)) { FileManager.default.fileExists(atPath: marker) }, "the process got SIGTERM")
            #expect(try await eventually(within: .seconds(15)) { !(try await lab.kubectl("get", "pod", "bye").succeeded) }, "the pod is removed")
            #expect(!lab.namespaces().contains(namespace), "its network namespace is gone")
            let links = try await lab.exec("node/node1", ["ip", "-o", "link", "show"])
            #expect(!links.stdout.contains("sbv\(hex)"), "its veth is gone: \(links.stdout)")
            #expect(try await Self.conditions(lab, ip: ip) == "")

            // The IP is free again: the next pod on the node gets it.
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: Self.echoPod("next", node: node)).succeeded)
            #expect(try await eventually(within: .seconds(30)) { try await lab.jsonpath("pod/next", "{.status.podIP}") == ip })
        }
    }

    @Test func aMissingCommandIsReportedAndHarmsNothingElse() async throws {
        try await withLab { lab in
            let broken = Self.echoPod("broken", command: #"["no-such-command-sb"]"#)
            let fine = Self.echoPod("fine")
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: [broken, fine].joined(separator: "\n---\n")).succeeded)
            #expect(try await eventually(within: .seconds(30)) {
                try await lab.jsonpath("pod/broken", "{.status.containerStatuses[0].state.waiting.reason}") == "RunContainerError"
            })
            let message = try await lab.jsonpath("pod/broken", "{.status.containerStatuses[0].state.waiting.message}")
            #expect(message == #"exec: "no-such-command-sb": executable file not found in $PATH"#)
            #expect(try await lab.jsonpath("pod/broken", "{.status.phase}") == "Pending")
            let events = try await lab.kubectl("get", "events", "--field-selector", "involvedObject.name=broken", "-o", "jsonpath={.items[*].reason}")
            #expect(events.stdout.contains("Failed"), "\(events.transcript)")
            #expect(try await eventually(within: .seconds(30)) {
                try await lab.jsonpath("pod/fine", #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True"
            })
        }
    }

    static func crashing(_ name: String, policy: String) -> String {
        echoPod(name, command: #"["sh", "-c", "echo started; exit 3"]"#).replacingOccurrences(
            of: "  terminationGracePeriodSeconds", with: "  restartPolicy: \(policy)\n  terminationGracePeriodSeconds")
    }

    @Test func restartPoliciesDecideWhatRunsAgain() async throws {
        try await withLab { lab in
            let manifest = [Self.crashing("always", policy: "Always"), Self.crashing("never", policy: "Never")].joined(separator: "\n---\n")
            let applied = try await lab.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(applied.succeeded, "\(applied.transcript)")
            #expect(try await eventually(within: .seconds(30)) {
                let restarts = try await lab.jsonpath("pod/always", "{.status.containerStatuses[0].restartCount}")
                let reason = try await lab.jsonpath("pod/always", "{.status.containerStatuses[0].state.waiting.reason}")
                return restarts == "1" && reason == "CrashLoopBackOff"
            }, "restarted at once, then backing off")
            #expect(try await lab.jsonpath("pod/always", "{.status.containerStatuses[0].lastState.terminated.exitCode}") == "3")
            #expect(try await eventually(within: .seconds(30)) { try await lab.jsonpath("pod/never", "{.status.phase}") == "Failed" })
            #expect(try await lab.jsonpath("pod/never", "{.status.containerStatuses[0].state.terminated.exitCode}") == "3")
            #expect(try await lab.jsonpath("pod/never", "{.status.containerStatuses[0].restartCount}") == "0")
        }
    }

    @Test func labDownAfterKill9LeavesNothing() async throws {
        let lab = try LabHarness.make()
        defer { try? FileManager.default.removeItem(at: lab.scratch) }
        let before = try await hostNetworkSnapshot()
        let up = try await lab.switchboard(["lab", "up", "--name", lab.name, "--nodes", "2"])
        #expect(up.succeeded, "\(up.transcript)")
        #expect(up.stdout.contains("\(lab.directory)/data/kubeconfig"))
        if up.succeeded {
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: Self.echoPod("p1")).succeeded)
            #expect(try await eventually(within: .seconds(30)) { try await lab.jsonpath("pod/p1", "{.status.phase}") == "Running" })
            let status = try await lab.switchboard(["lab", "status", "--name", lab.name])
            #expect(status.stdout.contains("sb-\(lab.name)-node1"), "\(status.transcript)")
        }
        // Every Switchboard process of the lab, and every process in its namespaces, dies at once.
        var pids = lab.processes().compactMap { Int32($0.prefix { $0 != ":" }) }
        for namespace in lab.namespaces() {
            let inside = try await ProcessRunner.run("/usr/sbin/ip", ["netns", "pids", namespace], directory: lab.scratch)
            pids += inside.stdout.split(separator: "\n").compactMap { Int32($0) }
        }
        #expect(pids.count >= 4, "control plane, two agents and a pod")
        for pid in pids { kill(pid, SIGKILL) }
        let down = try await lab.switchboard(["lab", "down", "--name", lab.name])
        #expect(down.succeeded, "\(down.transcript)")
        #expect(lab.namespaces().isEmpty, "\(lab.namespaces())")
        #expect(lab.processes().isEmpty, "\(lab.processes())")
        #expect(!FileManager.default.fileExists(atPath: lab.directory))
        #expect(try await hostNetworkSnapshot() == before)
        let status = try await lab.switchboard(["lab", "status", "--name", lab.name])
        #expect(status.stdout.contains("nothing exists"), "\(status.transcript)")
    }

    @Test func aPodCIDRInsideTheServiceCIDRIsRefusedAtStart() async throws {
        let lab = try LabHarness.make()
        defer { try? FileManager.default.removeItem(at: lab.scratch) }
        let result = try await lab.switchboard(
            ["node", "--name", "bad", "--pod-cidr", "10.96.1.0/24", "--server", "unix:///nonexistent.sock", "--root-dir", lab.scratch.path])
        #expect(!result.succeeded)
        #expect(result.stderr.contains("--pod-cidr 10.96.1.0/24 overlaps the service CIDR 10.96.0.0/12"), "\(result.transcript)")
    }

    @Test(arguments: LabProxyMode.available)
    func demoRunsToCompletion(mode: LabProxyMode) async throws {
        let lab = try LabHarness.make()
        defer { try? FileManager.default.removeItem(at: lab.scratch) }
        let before = try await hostNetworkSnapshot()
        let demo = try await lab.switchboard(["demo", "--name", lab.name, "--mode", mode.rawValue], timeout: .seconds(180))
        #expect(demo.succeeded, "\(demo.transcript)")
        #expect(demo.stdout.contains("ClusterIP"))
        #expect(demo.stdout.contains("   web → 10.") && demo.stdout.contains("   web.default.svc.cluster.local → 10."), "the names resolve: \(demo.stdout)")
        #expect(demo.stdout.contains("Two endpoints remain"), "\(demo.stdout)")
        #expect(demo.stdout.contains("None failed: traffic moved to the pods that remain."), "\(demo.stdout)")
        #expect(demo.stdout.contains(mode == .userspace ? "refused: the node's relay serves pods and the node only" : "no answer, the node dropped it"), "\(demo.stdout)")
        #expect(demo.stdout.contains("The node's proxy (\(mode.rawValue))"), "\(demo.stdout)")
        #expect(lab.namespaces().isEmpty && lab.processes().isEmpty)
        #expect(try await hostNetworkSnapshot() == before)
    }
}
