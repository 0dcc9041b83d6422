import Foundation
import Testing

/// `kubectl apply` of a multi-document manifest: creation, defaulting, idempotence, and updates that keep the
/// ClusterIP.
@Suite(.timeLimit(.minutes(2)))
struct KubectlApplyTests {
    @Test func applyShowsClusterIPDefaultsAndIsIdempotent() async throws {
        try await withControlPlane { up in
            let manifest = try up.file("shop.yaml", Fixture.shop())

            let created = try await up.kubectl("apply", "-f", manifest)
            #expect(created.succeeded, "\(created.transcript)")
            #expect(created.stdout == """
                namespace/shop created
                pod/web-1 created
                pod/web-2 created
                pod/web-3 created
                service/web created

                """)

            // kubectl get svc: a CLUSTER-IP from 10.96.0.0/12 and both ports.
            let table = try await up.kubectl("get", "svc", "web", "-n", "shop")
            let row = table.stdout.split(separator: "\n").last.map { $0.split(separator: " ", omittingEmptySubsequences: true) } ?? []
            #expect(row.count >= 5 && row[0] == "web" && row[1] == "ClusterIP", "\(table.stdout)")
            let clusterIP = row.count > 2 ? String(row[2]) : ""
            let octets = clusterIP.split(separator: ".").compactMap { Int($0) }
            #expect(octets.count == 4 && octets[0] == 10 && (96...111).contains(octets[1]), "ClusterIP \(clusterIP) not in 10.96.0.0/12")
            #expect(row.count > 4 && row[4] == "80/TCP,443/TCP", "\(table.stdout)")

            // The defaulted spec, field for field as kube-apiserver 1.32 returns it.
            let service = try await up.json("get", "svc", "web", "-n", "shop")
            let spec = try #require(service["spec"] as? NSDictionary)
            let expected: NSDictionary = [
                "clusterIP": clusterIP, "clusterIPs": [clusterIP], "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "ports": [
                    ["name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"],
                    ["name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"],
                ],
                "selector": ["app": "web"], "sessionAffinity": "None", "type": "ClusterIP",
            ]
            #expect(spec == expected, "spec: \(spec)")
            #expect((service["status"] as? NSDictionary) == ["loadBalancer": [:] as NSDictionary])
            let yaml = try await up.kubectl("get", "svc", "web", "-n", "shop", "-o", "yaml")
            #expect(yaml.stdout.contains("  sessionAffinity: None\n  type: ClusterIP\n"), "\(yaml.stdout)")

            // The same manifest again: nothing to do.
            let again = try await up.kubectl("apply", "-f", manifest)
            #expect(again.stdout == """
                namespace/shop unchanged
                pod/web-1 unchanged
                pod/web-2 unchanged
                pod/web-3 unchanged
                service/web unchanged

                """, "\(again.transcript)")

            // A changed port: configured, and the ClusterIP stays.
            let changed = try await up.kubectl("apply", "-f", try up.file("shop2.yaml", Fixture.shop(httpsPort: 8443)))
            #expect(changed.succeeded && changed.stdout.contains("service/web configured\n"), "\(changed.transcript)")
            #expect(changed.stdout.contains("pod/web-1 unchanged"))
            let after = try await up.kubectl("get", "svc", "web", "-n", "shop", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[*].port}")
            #expect(after.stdout == "\(clusterIP) 80 8443")
        }
    }

    @Test func bootstrapObjectsExist() async throws {
        try await withControlPlane { up in
            let namespaces = try await up.kubectl("get", "ns", "-o", "name")
            for name in ["default", "kube-system", "kube-public"] {
                #expect(namespaces.stdout.contains("namespace/\(name)\n"), "\(namespaces.transcript)")
            }
            let kubernetes = try await up.kubectl(
                "get", "svc", "kubernetes", "-n", "default", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].port}")
            #expect(kubernetes.stdout == "10.96.0.1 443", "\(kubernetes.transcript)")
            let version = try await up.kubectl("version", "-o", "json")
            #expect(version.stdout.contains(#""minor": "32""#), "\(version.transcript)")
            for path in ["/healthz", "/readyz", "/livez"] {
                let health = try await up.kubectl("get", "--raw", path)
                #expect(health.stdout == "ok", "\(path): \(health.transcript)")
            }
        }
    }
}
