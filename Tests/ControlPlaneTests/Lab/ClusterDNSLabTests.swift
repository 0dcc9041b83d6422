import Foundation
import Testing

/// The cluster DNS in the lab, as pods use it: through their resolv.conf (nameserver = the kube-dns ClusterIP,
/// search path `<ns>.svc.cluster.local svc.cluster.local cluster.local`, ndots 5), then a connection to what the
/// name resolved to, through the proxier.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root, iproute2 and nftables"), .timeLimit(.minutes(3)))
struct ClusterDNSLabTests {
    @Test func aPodResolvesAServiceByItsShortNameAndConnects() async throws {
        try await withLab { lab in
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: echo}
                  ports: [{name: tcp, port: 80, targetPort: tcp-echo}]
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: other}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: other}
                spec:
                  selector: {app: nobody}
                  ports: [{port: 80}]
                ---
                \(ProxyTrafficTests.pod("web1", node: "\(lab.name)-node2"))
                ---
                \(ProxyTrafficTests.pod("client", node: "\(lab.name)-node1", app: "client"))
                """
            #expect(try await lab.kubectl("apply", "-f", "-", stdin: manifest).succeeded)
            #expect(try await eventually(within: .seconds(40)) {
                let path = #"{.items[*].status.conditions[?(@.type=="Ready")].status}"#
                return try await lab.jsonpath("pods", path).split(separator: " ").filter { $0 == "True" }.count == 2
            }, "both pods Ready")
            let ip = try await lab.jsonpath("svc/web", "{.spec.clusterIP}")
            let otherIP = try await lab.jsonpath("svc/web", "{.spec.clusterIP}", namespace: "other")

            // The short name goes through the search path to this namespace's Service, not the other one's.
            var hosts = ProcessResult(status: 1, stdout: "", stderr: "")
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                hosts = try await lab.exec("pod/default/client", ["getent", "hosts", "web"])
                return hosts.succeeded
            }, "\(hosts.transcript)")
            #expect(hosts.stdout.hasPrefix("\(ip) "), "\(hosts.stdout)")
            let qualified = try await lab.exec("pod/default/client", ["getent", "hosts", "web.other"])
            #expect(qualified.stdout.hasPrefix("\(otherIP) "), "\(qualified.transcript)")
            let full = try await lab.exec("pod/default/client", ["getent", "hosts", "web.default.svc.cluster.local"])
            #expect(full.stdout.hasPrefix("\(ip) "), "\(full.transcript)")

            // And the name connects: resolv.conf → kube-dns ClusterIP → the DNS pod, then the Service.
            let connected = try await lab.exec("pod/default/client", ["switchboard", "echo", "--query", "tcp://web:80", "--count", "5"])
            #expect(connected.succeeded && connected.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("pod=web1 ") }, "\(connected.transcript)")

            // A name that is nowhere fails fast (NXDOMAIN on every search suffix), and the lab forwards nothing.
            let missing = try await lab.exec("pod/default/client", ["getent", "hosts", "nothing-here"])
            #expect(!missing.succeeded)
            let outsideName = try await lab.exec("pod/default/client", ["getent", "hosts", "www.example.com"])
            #expect(!outsideName.succeeded, "the closed world resolves no outside name: \(outsideName.transcript)")
        }
    }
}
