import Controllers
import IPAM
import KubeAPI
import Testing

func address(_ pod: Pod, ip: String? = nil, hostname: String? = nil) -> EndpointAddress {
    EndpointAddress(
        ip: ip ?? pod.status.podIPs![0].ip, hostname: hostname, nodeName: pod.spec.nodeName ?? "",
        targetRef: targetRef(pod))
}

func endpointsPort(_ name: String? = "http", _ port: Int32 = 8080, _ proto: TransportProtocol = .tcp) -> EndpointPort {
    EndpointPort(name: name, port: port, protocol: proto)
}

func reconcileEndpoints(
    _ service: Service, _ pods: [Pod], existing: Endpoints? = nil, triggerTime: Time? = nil
) -> EndpointsChange {
    EndpointsReconciler().reconcile(service: service, pods: pods, existing: existing, triggerTime: triggerTime)
}

/// For the default Service `web`.
func reconcileEndpoints(_ pods: [Pod], existing: Endpoints? = nil, triggerTime: Time? = nil) -> EndpointsChange {
    reconcileEndpoints(makeService(), pods, existing: existing, triggerTime: triggerTime)
}

/// Pods with only the container port `name` (for services whose ports are all named).
func portPods(_ count: Int, prefix: String, subnet: Int, port: String, ready: Bool = true) -> [Pod] {
    (0..<count).map { i in
        makePod(
            "\(prefix)\(i)", ip: "10.\(subnet).\(i / 250).\(i % 250 + 1)", ready: ready,
            containerPorts: [ContainerPort(name: port, containerPort: 8000, protocol: .tcp)])
    }
}

@Suite("EndpointsReconciler (legacy Endpoints, §5)")
struct EndpointsReconcilerTests {
    @Test("Ready pods in addresses, not-ready in notReadyAddresses, one subset with the resolved port")
    func readyAndNotReady() throws {
        let a = makePod("a", ip: "10.0.0.2"), b = makePod("b", ip: "10.0.0.1", node: "node-b")
        let c = makePod("c", ip: "10.0.0.3", ready: false)
        let change = reconcileEndpoints([a, b, c], triggerTime: may1)
        #expect(change.isCreate)
        let endpoints = try #require(change.written)
        #expect(endpoints.metadata.name == "web")
        #expect(endpoints.metadata.namespace == namespace)
        #expect(endpoints.metadata.ownerReferences == nil)
        #expect(endpoints.metadata.labels == nil || endpoints.metadata.labels == [:])
        #expect(endpoints.metadata.annotations == [triggerKey: "2024-05-01T10:00:00Z"])
        #expect(
            endpoints.subsets == [
                EndpointSubset(addresses: [address(b), address(a)], notReadyAddresses: [address(c)], ports: [endpointsPort()])
            ])
        #expect(endpoints.subsets?.first?.addresses?.first?.nodeName == "node-b")
    }

    @Test("Terminating pods are left out unless publishNotReadyAddresses; then every kept pod is ready")
    func terminatingAndPublishNotReady() throws {
        let pods = [
            makePod("a", ip: "10.0.0.1"), makePod("b", ip: "10.0.0.2", ready: false),
            makePod("c", ip: "10.0.0.3", terminating: true),
        ]
        let plain = try #require(reconcileEndpoints(pods).written)
        #expect(plain.subsets?.first?.addresses?.map(\.ip) == ["10.0.0.1"])
        #expect(plain.subsets?.first?.notReadyAddresses?.map(\.ip) == ["10.0.0.2"])

        let publishing = try #require(reconcileEndpoints(makeService(publishNotReadyAddresses: true), pods).written)
        #expect(publishing.subsets?.first?.addresses?.map(\.ip) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        #expect(isEmptyOrNil(publishing.subsets?.first?.notReadyAddresses))
    }

    @Test("Pods Succeeded, Failed or without an IP are left out; node existence does not matter")
    func excludedPods() throws {
        let pods = [
            makePod("done", ip: "10.0.0.1", phase: .succeeded), makePod("failed", ip: "10.0.0.2", phase: .failed),
            makePod("noip", ips: []), makePod("nonode", ip: "10.0.0.4", node: nil),
        ]
        let endpoints = try #require(reconcileEndpoints(pods).written)
        #expect(endpoints.subsets?.count == 1)
        #expect(endpoints.subsets?.first?.addresses == [address(pods[3])])
        #expect(endpoints.subsets?.first?.addresses?.first?.nodeName == "")
    }

    @Test("Addresses are sorted by IP as bytes (10.0.0.10 before 10.0.0.9), then by target UID")
    func byteWiseSort() throws {
        let pods = [
            makePod("a", ip: "10.0.0.9"), makePod("b", ip: "9.0.0.1"), makePod("c", ip: "10.0.0.10"),
            makePod("d", ip: "10.0.0.100"), makePod("e", ip: "10.0.0.5", uid: "uid-z"),
            makePod("f", ip: "10.0.0.5", uid: "uid-m"),
        ]
        let endpoints = try #require(reconcileEndpoints(pods).written)
        let addresses = try #require(endpoints.subsets?.first?.addresses)
        #expect(addresses.map(\.ip) == ["10.0.0.10", "10.0.0.100", "10.0.0.5", "10.0.0.5", "10.0.0.9", "9.0.0.1"])
        #expect(addresses.map { $0.targetRef?.uid } == ["uid-c", "uid-d", "uid-m", "uid-z", "uid-a", "uid-b"])
    }

    @Test("RepackSubsets: a pod lacking a named port gives two subsets, {A,B}:[http] and {A}:[metrics]")
    func repackMissingPort() throws {
        let service = makeService(ports: [
            namedPort("http", port: 80, target: "http"), namedPort("metrics", port: 9100, target: "metrics"),
        ])
        let a = makePod("a", ip: "10.0.0.1", containerPorts: [
            ContainerPort(name: "http", containerPort: 8080, protocol: .tcp),
            ContainerPort(name: "metrics", containerPort: 9100, protocol: .tcp),
        ])
        let b = makePod("b", ip: "10.0.0.2", ready: false, containerPorts: [ContainerPort(name: "http", containerPort: 8080, protocol: .tcp)])
        let endpoints = try #require(reconcileEndpoints(service, [a, b]).written)
        let subsets = try #require(endpoints.subsets)
        #expect(subsets.count == 2)
        // Subset order is a hash upstream: compare as a set.
        #expect(
            Set(subsets) == [
                EndpointSubset(addresses: [address(a)], notReadyAddresses: [address(b)], ports: [endpointsPort("http", 8080)]),
                EndpointSubset(addresses: [address(a)], ports: [endpointsPort("metrics", 9100)]),
            ])
    }

    @Test("RepackSubsets: the same address (IP and UID) seen ready and not ready ends up not ready")
    func notReadyWins() throws {
        for order in [["a", "b"], ["b", "a"]] {
            let pods = order.map { name in makePod(name, ip: "10.0.0.1", ready: name == "a", uid: "same-uid") }
            let endpoints = try #require(reconcileEndpoints(pods).written)
            #expect(endpoints.subsets?.count == 1)
            #expect(isEmptyOrNil(endpoints.subsets?.first?.addresses))
            #expect(endpoints.subsets?.first?.notReadyAddresses?.map(\.ip) == ["10.0.0.1"])
            // The first occurrence is the canonical copy.
            #expect(endpoints.subsets?.first?.notReadyAddresses?.first?.targetRef?.name == order[0])
        }
    }

    @Test("Only status.podIPs is read: a pod with podIP but no podIPs is left out")
    func podIPOnly() throws {
        var pod = makePod("a", ip: "10.0.0.1")
        pod.status.podIPs = nil
        let endpoints = try #require(reconcileEndpoints([pod]).written)
        #expect(isEmptyOrNil(endpoints.subsets))
    }

    @Test("All pods with all ports: one subset holding every port")
    func repackAllPorts() throws {
        let service = makeService(ports: [
            ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080),
            ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 5353),
        ])
        let endpoints = try #require(reconcileEndpoints(service, manyPods(3)).written)
        #expect(endpoints.subsets?.count == 1)
        #expect(Set(endpoints.subsets?.first?.ports ?? []) == [endpointsPort("http", 8080), endpointsPort("dns", 5353, .udp)])
        #expect(endpoints.subsets?.first?.addresses?.count == 3)
    }

    @Test("Named ports resolve in sidecar (restartable init) containers for Endpoints in 1.32")
    func sidecarPort() throws {
        let service = makeService(ports: [namedPort("http", port: 80, target: "http")])
        let pod = makePod("a", ip: "10.0.0.1", sidecarPorts: [ContainerPort(name: "http", containerPort: 8081, protocol: .tcp)])
        let endpoints = try #require(reconcileEndpoints(service, [pod]).written)
        #expect(endpoints.subsets == [EndpointSubset(addresses: [address(pod)], ports: [endpointsPort("http", 8081)])])
    }

    @Test("A pod none of whose ports resolve contributes nothing")
    func noPortResolves() throws {
        let service = makeService(ports: [namedPort("http", port: 80, target: "http")])
        let endpoints = try #require(reconcileEndpoints(service, [makePod("a", ip: "10.0.0.1")]).written)
        #expect(isEmptyOrNil(endpoints.subsets))
    }

    @Test("Headless without ports: one subset with all addresses and no ports; headless label \"\"")
    func headlessNoPorts() throws {
        let service = makeService(labels: ["team": "a"], ports: nil, clusterIP: "None", ipFamilies: nil)
        let pods = [makePod("a", ip: "10.0.0.2"), makePod("b", ip: "10.0.0.1", ready: false)]
        let endpoints = try #require(reconcileEndpoints(service, pods).written)
        #expect(endpoints.subsets?.count == 1)
        #expect(endpoints.subsets?.first?.addresses == [address(pods[0])])
        #expect(endpoints.subsets?.first?.notReadyAddresses == [address(pods[1])])
        #expect(isEmptyOrNil(endpoints.subsets?.first?.ports))
        #expect(endpoints.metadata.labels == ["team": "a", headlessKey: ""])
    }

    @Test("A ClusterIP Service without ports publishes no addresses")
    func clusterIPNoPorts() throws {
        let endpoints = try #require(reconcileEndpoints(makeService(ports: nil), manyPods(2)).written)
        #expect(isEmptyOrNil(endpoints.subsets))
    }

    @Test("No pods → subsets empty, labels from the Service, no service-name/managed-by labels")
    func noPods() throws {
        let endpoints = try #require(reconcileEndpoints(makeService(labels: ["team": "a"]), []).written)
        #expect(isEmptyOrNil(endpoints.subsets))
        #expect(endpoints.metadata.labels == ["team": "a"])
        #expect(endpoints.metadata.annotations?[triggerKey] == nil)
    }

    @Test("Hostname only when the pod's subdomain is the Service name")
    func hostname() throws {
        let pods = [
            makePod("a", ip: "10.0.0.1", hostname: "a-host", subdomain: "web"),
            makePod("b", ip: "10.0.0.2", hostname: "b-host", subdomain: "other"),
        ]
        let endpoints = try #require(reconcileEndpoints(pods).written)
        #expect(endpoints.subsets?.first?.addresses?.map(\.hostname) == ["a-host", nil])
    }

    @Test("Only the primary family: ipFamilies[0], else the ClusterIP's family, else the pod IP's family")
    func primaryFamily() throws {
        let pod = makePod("a", ips: ["10.0.0.1", "fd00::1"])
        let v6First = try #require(reconcileEndpoints(makeService(ipFamilies: [.ipv6, .ipv4]), [pod]).written)
        #expect(v6First.subsets?.first?.addresses?.map(\.ip) == ["fd00::1"])
        let v4First = try #require(reconcileEndpoints(makeService(ipFamilies: [.ipv4, .ipv6]), [pod]).written)
        #expect(v4First.subsets?.first?.addresses?.map(\.ip) == ["10.0.0.1"])
        let byClusterIP = try #require(reconcileEndpoints(makeService(clusterIP: "fd00:96::1", ipFamilies: nil), [pod]).written)
        #expect(byClusterIP.subsets?.first?.addresses?.map(\.ip) == ["fd00::1"])
        let v6Pod = makePod("b", ips: ["fd00::2", "10.0.0.2"])
        let headless = try #require(
            reconcileEndpoints(makeService(clusterIP: "None", ipFamilies: nil), [pod, v6Pod]).written)
        #expect(Set(headless.subsets?.first?.addresses?.map(\.ip) ?? []) == ["10.0.0.1", "fd00::2"])
        // A v4-only pod under an IPv6 Service is skipped.
        let skipped = try #require(reconcileEndpoints(makeService(ipFamilies: [.ipv6]), [makePod("c", ip: "10.0.0.3")]).written)
        #expect(isEmptyOrNil(skipped.subsets))
    }

    @Test("Selector-less and ExternalName Services: nothing is written")
    func skippedServices() {
        #expect(reconcileEndpoints(makeService(selector: nil), manyPods(1)) == .none)
        #expect(reconcileEndpoints(makeService(type: .externalName), manyPods(1)) == .none)
    }

    // MARK: Compare and skip (§5.5)

    @Test("No write when nothing changed; a new trigger time alone does not write")
    func noWriteWhenUnchanged() throws {
        let pods = [makePod("a", ip: "10.0.0.1"), makePod("b", ip: "10.0.0.2", ready: false)]
        let stored = try #require(reconcileEndpoints(pods, triggerTime: may1).written)
        #expect(reconcileEndpoints(pods, existing: stored, triggerTime: may1) == .none)
        #expect(reconcileEndpoints(pods, existing: stored, triggerTime: may1.adding(seconds: 30)) == .none)
        #expect(reconcileEndpoints(pods, existing: stored, triggerTime: nil) == .none)
        var withVersion = stored
        withVersion.subsets?[0].addresses?[0].targetRef?.resourceVersion = "123"
        #expect(reconcileEndpoints(pods, existing: withVersion) == .none)
    }

    @Test("Headless: the stored headless label is not compared")
    func headlessLabelNotCompared() throws {
        let service = makeService(clusterIP: "None")
        var stored = try #require(reconcileEndpoints(service, manyPods(1)).written)
        #expect(stored.metadata.labels == [headlessKey: ""])
        stored.metadata.labels = nil
        #expect(reconcileEndpoints(service, manyPods(1), existing: stored) == .none)
    }

    @Test("A pod change writes an update: trigger time set or removed, other annotations and metadata kept")
    func updateAnnotations() throws {
        let pods = manyPods(2)
        var stored = try #require(reconcileEndpoints(pods, triggerTime: may1).written)
        stored.metadata.annotations?["keep"] = "me"
        stored.metadata.resourceVersion = "5"
        var changed = pods
        changed[1].status.conditions = [PodCondition(type: "Ready", status: .false)]

        let stamped = reconcileEndpoints(changed, existing: stored, triggerTime: Time(seconds: may1.seconds, nanoseconds: 500_000_000))
        #expect(stamped.isUpdate)
        #expect(stamped.written?.metadata.annotations == ["keep": "me", triggerKey: "2024-05-01T10:00:00.5Z"])
        #expect(stamped.written?.metadata.resourceVersion == "5")
        #expect(stamped.written?.subsets?.first?.notReadyAddresses?.map { $0.targetRef?.name } == ["p1"])

        let unstamped = reconcileEndpoints(changed, existing: stored, triggerTime: nil)
        #expect(unstamped.isUpdate)
        #expect(unstamped.written?.metadata.annotations?[triggerKey] == nil)
        #expect(unstamped.written?.metadata.annotations?["keep"] == "me")
    }

    @Test("Service labels changed → update with the new labels")
    func labelsChanged() throws {
        let stored = try #require(reconcileEndpoints(manyPods(1)).written)
        let change = reconcileEndpoints(makeService(labels: ["team": "b"]), manyPods(1), existing: stored)
        #expect(change.isUpdate)
        #expect(change.written?.metadata.labels == ["team": "b"])
    }

    @Test("A Service carrying the headless label itself is written on every sync (upstream edge case)")
    func serviceWithHeadlessLabel() throws {
        let service = makeService(labels: [headlessKey: ""], clusterIP: "None")
        let stored = try #require(reconcileEndpoints(service, manyPods(1)).written)
        #expect(reconcileEndpoints(service, manyPods(1), existing: stored).isUpdate)
    }

    // MARK: Truncation (§5.7)

    @Test("1200 ready in two subsets (800, 400): 667 and 333 kept, lowest IPs first, annotation set")
    func truncateReady() throws {
        let service = makeService(ports: [namedPort("a", port: 1, target: "a"), namedPort("b", port: 2, target: "b")])
        let pods = portPods(800, prefix: "a", subnet: 1, port: "a") + portPods(400, prefix: "b", subnet: 2, port: "b")
            + portPods(50, prefix: "n", subnet: 3, port: "a", ready: false)
        let endpoints = try #require(reconcileEndpoints(service, pods).written)
        let subsets = try #require(endpoints.subsets)
        #expect(subsets.count == 2)
        let a = try #require(subsets.first { $0.ports?.first?.name == "a" })
        let b = try #require(subsets.first { $0.ports?.first?.name == "b" })
        // Documented subset order puts port a (800) first, as in the worked example.
        #expect(subsets.first?.ports?.first?.name == "a")
        #expect(a.addresses?.count == 667)
        #expect(b.addresses?.count == 333)
        #expect(isEmptyOrNil(a.notReadyAddresses) && isEmptyOrNil(b.notReadyAddresses))
        let allA = portPods(800, prefix: "a", subnet: 1, port: "a").map { $0.status.podIPs![0].ip }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(a.addresses?.map(\.ip) == Array(allA.prefix(667)))
        #expect(endpoints.metadata.annotations?[overCapacityKey] == "truncated")
    }

    @Test("900 ready, not-ready 200 and 100: not-ready cut to 67 and 33, all ready kept")
    func truncateNotReady() throws {
        let service = makeService(ports: [namedPort("a", port: 1, target: "a"), namedPort("b", port: 2, target: "b")])
        let pods = portPods(500, prefix: "ar", subnet: 1, port: "a") + portPods(200, prefix: "an", subnet: 2, port: "a", ready: false)
            + portPods(400, prefix: "br", subnet: 3, port: "b") + portPods(100, prefix: "bn", subnet: 4, port: "b", ready: false)
        let endpoints = try #require(reconcileEndpoints(service, pods).written)
        let subsets = try #require(endpoints.subsets)
        #expect(subsets.count == 2)
        let a = try #require(subsets.first { $0.ports?.first?.name == "a" })
        let b = try #require(subsets.first { $0.ports?.first?.name == "b" })
        #expect(a.addresses?.count == 500 && b.addresses?.count == 400)
        #expect(a.notReadyAddresses?.count == 67)
        #expect(b.notReadyAddresses?.count == 33)
        #expect(endpoints.metadata.annotations?[overCapacityKey] == "truncated")
    }

    @Test("Exactly 1000 addresses: no truncation, and a stale over-capacity annotation is removed")
    func exactlyCapacity() throws {
        let pods = manyPods(1000)
        let fresh = try #require(reconcileEndpoints(pods).written)
        #expect(fresh.subsets?.first?.addresses?.count == 1000)
        #expect(fresh.metadata.annotations?[overCapacityKey] == nil)

        var stale = fresh
        stale.metadata.annotations = [overCapacityKey: "truncated"]
        let change = reconcileEndpoints(pods, existing: stale)
        #expect(change.isUpdate)
        #expect(change.written?.metadata.annotations?[overCapacityKey] == nil)
        #expect(change.written?.subsets?.first?.addresses?.count == 1000)
    }

    @Test("Documented deviation: an over-capacity Endpoints already stored truncated is not rewritten")
    func truncatedNotRewritten() throws {
        let pods = manyPods(1001)
        let stored = try #require(reconcileEndpoints(pods).written)
        #expect(stored.subsets?.first?.addresses?.count == 1000)
        #expect(stored.metadata.annotations?[overCapacityKey] == "truncated")
        #expect(reconcileEndpoints(pods, existing: stored) == .none)
        // Stored truncated but without the annotation: written to add it.
        var unannotated = stored
        unannotated.metadata.annotations = nil
        let change = reconcileEndpoints(pods, existing: unannotated)
        #expect(change.isUpdate)
        #expect(change.written?.metadata.annotations?[overCapacityKey] == "truncated")
    }
}
