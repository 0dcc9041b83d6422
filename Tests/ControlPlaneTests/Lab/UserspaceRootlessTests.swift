import Foundation
import Testing

/// `--mode userspace` for a user who is not root: the control plane, two echo servers as endpoints, the proxy
/// and the client all run as `nobody` (setpriv), in a network namespace the test creates (as root, which is
/// the only thing root does here) and removes. Nobody can add routes or bind a ClusterIP, so the relay serves
/// each Service on the loopback address its ClusterIP maps to (127. + its low three bytes), and a port below
/// 1024 on port + 10000; the client reaches the Service there.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root (to create the namespace and drop to nobody), iproute2 and setpriv"), .timeLimit(.minutes(2)))
struct UserspaceRootlessTests {
    static func manifest() -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          ports: [{name: http, port: 80}, {name: alt, port: 8443}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        ports: [{name: http, port: 8080, protocol: TCP}, {name: alt, port: 8080, protocol: TCP}]
        endpoints:
        - {addresses: [127.0.0.2], conditions: {ready: true}}
        - {addresses: [127.0.0.3], conditions: {ready: true}}
        """
    }

    /// The uid a process runs as (`Uid:` of /proc/PID/status, the real one).
    static func uid(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        return Int(line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first ?? "")
    }

    @Test func aUserWhoIsNotRootReachesAServiceThroughTheRelay() async throws {
        try await withOwnNamespace("rootless") { own in
            // A directory nobody may write: the control plane's data, the kubeconfig, the API socket.
            let data = own.scratch.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            _ = try await own.run(["/usr/bin/chown", "-R", "65534:65534", own.scratch.path])
            _ = try await own.run(["/usr/bin/chmod", "0755", own.scratch.path])
            let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
            let switchboard = asNobody + [SwitchboardUp.executable]
            func start(_ arguments: [String]) throws -> BackgroundProcess { try own.start(switchboard + arguments) }
            let controlPlane = try start(["up", "--data-dir", data.path, "--listen", "127.0.0.1:0"])
            let kubeconfig = data.appendingPathComponent("kubeconfig").path
            #expect(await eventually(within: .seconds(20)) { FileManager.default.fileExists(atPath: kubeconfig) }, "the control plane starts: \(controlPlane.errors)")
            _ = try start(["echo", "--tcp", "127.0.0.2:8080", "--name", "e1"])
            _ = try start(["echo", "--tcp", "127.0.0.3:8080", "--name", "e2"])
            let kubectl = asNobody + ["/usr/bin/kubectl", "--kubeconfig", kubeconfig, "--cache-dir", own.scratch.appendingPathComponent("kube-cache").path]
            var applied: ProcessResult?
            #expect(await eventually(within: .seconds(20)) {
                applied = try? await own.exec(kubectl + ["apply", "-f", "-"], stdin: Self.manifest())
                return applied?.succeeded == true
            }, "kubectl apply as nobody: \(applied?.transcript ?? "")")
            let clusterIP = try await own.exec(kubectl + ["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]).stdout
            let bytes = clusterIP.split(separator: ".")
            #expect(bytes.count == 4, "\(clusterIP)")
            guard bytes.count == 4 else { throw CancellationError() }
            let mapped = "127.\(bytes[1]).\(bytes[2]).\(bytes[3])"

            let proxy = try start([
                "proxy", "--mode", "userspace", "--server", "unix://\(data.appendingPathComponent("api.sock").path)", "--hostname-override", "laptop",
                "--service-cidr", "10.96.0.0/12", "--healthz-bind-address", "127.0.0.1:10256", "--metrics-bind-address", "127.0.0.1:10249",
            ])
            // Port 80 is privileged: 10080; 8443 is not.
            for (port, what) in [(10080, "http"), (8443, "alt")] {
                var answers = ""
                #expect(await eventually(within: .seconds(15), every: .milliseconds(100)) {
                    let query = try? await own.exec(switchboard + ["echo", "--query", "tcp://\(mapped):\(port)", "--count", "10", "--timeout", "1"])
                    answers = query?.stdout ?? ""
                    return query?.succeeded == true
                }, "the \(what) port answers at \(mapped):\(port): \(proxy.errors)")
                let counts = ProxyTrafficTests.tally(answers)
                #expect(counts["e1"] == 5 && counts["e2"] == 5, "round robin over both endpoints: \(counts)")
            }
            let log = proxy.output + proxy.errors
            #expect(log.contains("listening on \(mapped):10080"), "the mapping is logged: \(log)")
            #expect(log.contains("listening on \(mapped):8443"), "\(log)")
            #expect(Self.uid(of: proxy.pid) == 65534, "the proxy runs as nobody")
            // Without root nothing was written to the kernel's packet filter of the namespace.
            let rules = try await own.exec(["nft", "list", "ruleset"])
            #expect(!rules.stdout.contains("switchboard"), "\(rules.stdout)")
        }
    }
}
