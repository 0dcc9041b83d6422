import Foundation
import KubeAPI
import KubeClient
import KubeClientHTTP
import Synchronization
import Testing

/// Stopping `switchboard up`, gracefully or with `kill -9` in the middle of a burst of creates, loses no
/// acknowledged write and never hands out an IP twice; watches resume where they left off.
@Suite(.timeLimit(.minutes(3)))
struct DurabilityTests {
    static func service(_ name: String) -> Service {
        var service = Service(metadata: ObjectMeta(name: name, namespace: "default"))
        service.spec.selector = ["app": name]
        service.spec.ports = [ServicePort(port: 80)]
        return service
    }

    @Test func ctrlCEndsWatchesCleanlyAndKeepsEverything() async throws {
        try await withControlPlane { up in
            let manifest = (1...20).map { i in
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\(i)\nspec:\n  ports: [{port: 80}]\n"
            }.joined(separator: "---\n")
            #expect(try await up.kubectl("apply", "-f", "-", stdin: manifest).succeeded)
            let before = try await up.kubectl("get", "svc", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.clusterIP} {end}")

            // A watch open across the shutdown must end as a complete HTTP response, not a broken connection.
            let client = up.client()
            let (_, version) = try await client.list(Service.self, namespace: "default")
            let kubectlWatch = try up.kubectlInBackground("get", "svc", "-w")
            #expect(await eventually { kubectlWatch.output.contains("s20") })
            let watchEnded = Locked<Result<Void, any Error>?>(nil)
            let seen = Locked<[String]>([])
            let stored = Locked("")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await client.watch(Service.self, namespace: "default", from: version) { event in
                            if let name = event.object?.metadata.name { seen.withLock { $0.append(name) } }
                        }
                        watchEnded.withLock { $0 = .success(()) }
                    } catch {
                        watchEnded.withLock { $0 = .failure(error) }
                    }
                }
                // The watch is open once it delivers a write made after it started.
                #expect(try await up.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: Service\nmetadata:\n  name: marker\nspec:\n  ports: [{port: 80}]\n").succeeded)
                #expect(await eventually(within: .seconds(10)) { seen.withLock { $0.contains("marker") } })
                let listed = try await up.kubectl("get", "svc", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.clusterIP} {end}")
                stored.withLock { $0 = listed.stdout }
                let status = try await up.stop(signal: SIGINT)
                #expect(status == 0, "exit status after SIGINT: \(status)\n\(up.log().suffix(2000))")
                try await group.waitForAll()
            }
            switch watchEnded.withLock({ $0 }) {
            case .success?: break
            case .failure(let error)?: Issue.record("the watch broke instead of ending: \(error)")
            case nil: Issue.record("the watch did not end")
            }
            #expect(await kubectlWatch.waitForExit(within: .seconds(10)), "kubectl get -w still running after shutdown")
            #expect(!FileManager.default.fileExists(atPath: up.socket), "the Unix socket was left behind")
            await client.shutdown()

            try await up.start()
            let after = try await up.kubectl("get", "svc", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.clusterIP} {end}")
            let expected = stored.withLock { $0 }
            #expect(after.stdout == expected && expected.contains("marker=") && expected.contains(before.stdout.split(separator: " ").first ?? "-"), "before: \(expected)\nafter: \(after.stdout)")
        }
    }

    @Test func kill9DuringConcurrentCreatesLosesNoAcknowledgedWrite() async throws {
        try await withControlPlane { up in
            let client = up.client()
            let acknowledged = Locked<[String: String]>([:])
            let killed = Locked(false)
            let pid = up.pid
            // 1,000 creates, 32 at a time; the 300th acknowledgement pulls the plug.
            await withTaskGroup(of: Void.self) { group in
                var next = 0
                func launch() {
                    let name = "burst-\(next)"
                    next += 1
                    group.addTask {
                        guard let created = try? await client.create(Self.service(name)) else { return }
                        let count = acknowledged.withLock { acked in
                            acked[name] = created.spec.clusterIP ?? ""
                            return acked.count
                        }
                        if count == 300, !killed.withLock({ $0 }) {
                            killed.withLock { $0 = true }
                            kill(pid, SIGKILL)
                        }
                    }
                }
                for _ in 0..<32 { launch() }
                while await group.next() != nil {
                    if next < 1000 { launch() }
                }
            }
            await client.shutdown()
            let acked = acknowledged.withLock { $0 }
            #expect(killed.withLock { $0 }, "the burst finished before the kill (\(acked.count) acknowledged)")
            #expect(acked.count >= 300 && acked.count < 1000, "\(acked.count) acknowledged")
            _ = try? await up.stop(signal: SIGKILL)

            try await up.start()
            let fresh = up.client()
            let (services, _) = try await fresh.list(Service.self, namespace: nil)
            let stored = Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0.spec.clusterIP ?? "") })
            let lost = acked.filter { stored[$0.key] != $0.value }
            #expect(lost.isEmpty, "\(lost.count) acknowledged creates lost or changed, e.g. \(lost.prefix(3))")
            let ips = services.compactMap(\.spec.clusterIP)
            #expect(Set(ips).count == ips.count, "an IP is held twice")

            // The allocator came back with every stored IP taken: new Services get new addresses.
            var newIPs: [String] = []
            for i in 0..<20 { newIPs.append(try await fresh.create(Self.service("after-\(i)")).spec.clusterIP ?? "") }
            #expect(Set(newIPs).isDisjoint(with: ips), "a new Service got an address already in use")
            await fresh.shutdown()
        }
    }
}
