import Foundation
import Testing

/// The kubectl verbs users reach for beyond apply: server-side apply, the three patch types, delete -f,
/// wait --for=delete, jsonpath output and listing across namespaces.
@Suite(.timeLimit(.minutes(2)))
struct KubectlVerbsTests {
    @Test func serverSideApplyRecordsItsManager() async throws {
        try await withControlPlane { up in
            let manifest = try up.file("svc.yaml", Fixture.service(namespace: "default"))
            let first = try await up.kubectl("apply", "--server-side", "-f", manifest)
            #expect(first.stdout == "service/web serverside-applied\n", "\(first.transcript)")
            let ip = try await up.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
            #expect(!ip.isEmpty)

            let changed = try await up.kubectl(
                "apply", "--server-side", "-f", try up.file("svc2.yaml", Fixture.service(namespace: "default", httpsPort: 9443)))
            #expect(changed.stdout == "service/web serverside-applied\n", "\(changed.transcript)")
            let after = try await up.kubectl(
                "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[1].port} {.metadata.managedFields[*].manager}",
                "--show-managed-fields")
            #expect(after.stdout.hasPrefix("\(ip) 9443 "), "\(after.transcript)")
            #expect(after.stdout.contains("kubectl"), "\(after.transcript)")

            // Another applier that sets a field kubectl owns to another value conflicts, unless it forces.
            let other = try up.file("other.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  ports:
                  - port: 80
                    targetPort: 8080
                """)
            let conflict = try await up.kubectl("apply", "--server-side", "--field-manager=deployer", "-f", other)
            #expect(!conflict.succeeded, "\(conflict.transcript)")
            #expect(conflict.stderr.contains(#"conflict with "kubectl": .spec.ports[port=80,protocol="TCP"].targetPort"#), "\(conflict.stderr)")
            let forced = try await up.kubectl("apply", "--server-side", "--field-manager=deployer", "--force-conflicts", "-f", other)
            #expect(forced.stdout == "service/web serverside-applied\n", "\(forced.transcript)")
            let target = try await up.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].targetPort} {.metadata.managedFields[*].manager}", "--show-managed-fields")
            #expect(target.stdout == "8080 kubectl deployer", "\(target.transcript)")
        }
    }

    @Test func mergeStrategicAndJSONPatches() async throws {
        try await withControlPlane { up in
            let created = try await up.kubectl("apply", "-f", try up.file("svc.yaml", Fixture.service(namespace: "default")))
            #expect(created.succeeded, "\(created.transcript)")

            let merge = try await up.kubectl("patch", "svc", "web", "--type=merge", "-p", #"{"metadata":{"labels":{"tier":"front"}}}"#)
            #expect(merge.stdout == "service/web patched\n", "\(merge.transcript)")

            // Strategic merge: ports merge by their key (port), so this adds one and keeps the others.
            let strategic = try await up.kubectl(
                "patch", "svc", "web", "--type=strategic", "-p", #"{"spec":{"ports":[{"name":"metrics","port":9090,"targetPort":9090}]}}"#)
            #expect(strategic.stdout == "service/web patched\n", "\(strategic.transcript)")

            let json = try await up.kubectl(
                "patch", "svc", "web", "--type=json", "-p", #"[{"op":"replace","path":"/spec/ports/0/name","value":"web"}]"#)
            #expect(json.stdout == "service/web patched\n", "\(json.transcript)")

            let result = try await up.kubectl(
                "get", "svc", "web", "-o", "jsonpath={.metadata.labels.tier} {.spec.ports[*].name} {.spec.ports[*].port}")
            #expect(result.stdout == "front web https metrics 80 443 9090", "\(result.transcript)")

            // Strategic `$patch: delete` removes one port by its key.
            let delete = try await up.kubectl(
                "patch", "svc", "web", "--type=strategic", "-p", #"{"spec":{"ports":[{"port":9090,"$patch":"delete"}]}}"#)
            #expect(delete.succeeded, "\(delete.transcript)")
            let ports = try await up.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.ports[*].port}")
            #expect(ports.stdout == "80 443")

            let noop = try await up.kubectl("patch", "svc", "web", "--type=merge", "-p", #"{"metadata":{"labels":{"tier":"front"}}}"#)
            #expect(noop.stdout == "service/web patched (no change)\n", "\(noop.transcript)")
        }
    }

    @Test func deleteFileWaitJsonpathAndAllNamespaces() async throws {
        try await withControlPlane { up in
            let manifest = try up.file("shop.yaml", Fixture.shop())
            #expect(try await up.kubectl("apply", "-f", manifest).succeeded)

            let all = try await up.kubectl("get", "svc", "-A")
            let rows = all.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.first?.prefix(4) == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP"], "\(all.stdout)")
            #expect(rows.contains { $0.prefix(3) == ["default", "kubernetes", "ClusterIP"] }, "\(all.stdout)")
            #expect(rows.contains { $0.prefix(3) == ["shop", "web", "ClusterIP"] }, "\(all.stdout)")

            let names = try await up.kubectl("get", "pods", "-n", "shop", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
            #expect(names.stdout == "web-1\nweb-2\nweb-3\n", "\(names.transcript)")

            // A finalizer holds web-1 in Terminating until it is removed; wait --for=delete sees it go.
            let held = try await up.kubectl("patch", "pod", "web-1", "-n", "shop", "--type=merge", "-p", #"{"metadata":{"finalizers":["example.com/hold"]}}"#)
            #expect(held.succeeded, "\(held.transcript)")
            let waiter = try up.kubectlInBackground("wait", "--for=delete", "pod/web-1", "-n", "shop", "--timeout=30s")
            let deleting = try await up.kubectl("delete", "pod", "web-1", "-n", "shop", "--wait=false")
            #expect(deleting.stdout == "pod \"web-1\" deleted\n", "\(deleting.transcript)")
            let terminating = try await up.kubectl("get", "pod", "web-1", "-n", "shop", "-o", "jsonpath={.metadata.deletionTimestamp}")
            #expect(!terminating.stdout.isEmpty, "\(terminating.transcript)")
            #expect(waiter.isRunning)
            let released = try await up.kubectl("patch", "pod", "web-1", "-n", "shop", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#)
            #expect(released.succeeded, "\(released.transcript)")
            #expect(await waiter.waitForExit(within: .seconds(20)))
            #expect(waiter.status == 0, "wait: \(waiter.output) \(waiter.errors)")
            #expect(waiter.output.contains("pod/web-1 condition met"), "\(waiter.output)")

            // delete -f removes what the manifest names (web-1 is already gone).
            // The namespace goes Terminating and is emptied after upstream's 5 s grace, so kubectl deletes each
            // object the manifest names itself first.
            let deleted = try await up.kubectl("delete", "-f", manifest, "--ignore-not-found", "--wait=true", "--timeout=60s")
            #expect(deleted.succeeded, "\(deleted.transcript)")
            #expect(deleted.stdout == """
                namespace "shop" deleted
                pod "web-2" deleted
                pod "web-3" deleted
                service "web" deleted

                """, "\(deleted.transcript)")
            let gone = try await up.kubectl("get", "ns", "shop")
            #expect(!gone.succeeded && gone.stderr.contains(#"namespaces "shop" not found"#), "\(gone.transcript)")
            let services = try await up.kubectl("get", "svc", "-A", "-o", "name")
            #expect(services.stdout == "service/kubernetes\n", "\(services.transcript)")
        }
    }
}
