import Controllers
import IPAM
import KubeAPI
import Testing

/// A slice as the controller stores it for `service`: owned, labelled, one endpoint per pod (its first IP), no zone.
func storedSlice(
    _ name: String, _ pods: [Pod], service: Service = makeService(), ports: [EndpointPort]? = [slicePort()],
    type: AddressType = .ipv4, annotations: [String: String]? = nil
) -> EndpointSlice {
    EndpointSlice(
        metadata: ObjectMeta(
            name: name, generateName: "\(service.name)-", namespace: namespace, resourceVersion: "7",
            labels: [serviceNameKey: service.name, managedByKey: managedByValue]
                .merging(service.spec.clusterIP == "None" ? [headlessKey: ""] : [:]) { a, _ in a }
                .merging(service.labels) { a, _ in a },
            annotations: annotations,
            ownerReferences: [
                OwnerReference(
                    apiVersion: "v1", kind: "Service", name: service.name, uid: service.metadata.uid ?? "",
                    controller: true, blockOwnerDeletion: true)
            ]),
        addressType: type,
        endpoints: pods.map { pod in
            let ready = pod.status.conditions?.first?.status == .true
            return Endpoint(
                addresses: [pod.status.podIPs![0].ip],
                conditions: EndpointConditions(ready: ready, serving: ready, terminating: false),
                targetRef: targetRef(pod), nodeName: pod.spec.nodeName)
        },
        ports: ports)
}

let ready = EndpointConditions(ready: true, serving: true, terminating: false)
let notReady = EndpointConditions(ready: false, serving: false, terminating: false)

// MARK: - §4.10 worked scenarios

@Suite("EndpointSlice reconcile: §4.10 worked scenarios")
struct EndpointSliceScenarioTests {
    @Test("1. one ready pod, no slices → one create with every field as upstream writes it")
    func scenario1SinglePod() throws {
        let pod = makePod("a", ip: "10.0.0.1", node: "node-a")
        let cluster = SliceCluster(pods: [pod], nodes: nodeLookup(["node-a": "z1"]))
        let changes = cluster.plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty && changes.skippedPods.isEmpty)
        #expect(changes.creates.count == 1)
        let slice = try #require(changes.creates.first)
        #expect(slice.addressType == .ipv4)
        #expect(slice.ports == [slicePort("http", 8080)])
        #expect(
            slice.endpoints == [
                Endpoint(addresses: ["10.0.0.1"], conditions: ready, targetRef: targetRef(pod), nodeName: "node-a", zone: "z1")
            ])
        #expect(slice.endpoints.first?.hints == nil)
        #expect(slice.labels == [serviceNameKey: "web", managedByKey: managedByValue])
        #expect(slice.metadata.namespace == namespace)
        #expect(slice.metadata.generateName == "web-")
        #expect(
            slice.metadata.ownerReferences == [
                OwnerReference(
                    apiVersion: "v1", kind: "Service", name: "web", uid: serviceUID, controller: true,
                    blockOwnerDeletion: true)
            ])
        #expect(slice.metadata.annotations?[triggerKey] == nil)
    }

    @Test("Documented deviation: a new slice is named <service>- plus five generateName characters")
    func newSliceName() throws {
        let changes = SliceCluster(pods: [makePod("a", ip: "10.0.0.1")]).plan()
        let name = try #require(changes.creates.first?.name)
        #expect(name.hasPrefix("web-"))
        #expect(name.count == "web-".count + 5)
        let alphabet = Set("bcdfghjklmnpqrstvwxz2456789")
        #expect(name.dropFirst(4).allSatisfy(alphabet.contains))
    }

    @Test("2. 250 pods, no slices → three creates of 100, 100 and 50")
    func scenario2ManyPods() {
        let pods = manyPods(250)
        let changes = SliceCluster(pods: pods).plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.map(\.endpoints.count).sorted() == [50, 100, 100])
        #expect(Set(changes.creates.flatMap(podNames)) == Set(pods.map(\.name)))
        #expect(changes.creates.flatMap(podNames).count == 250)
        #expect(Set(changes.creates.map(\.name)).count == 3)
    }

    @Test("3. a slice of 10 unchanged endpoints plus 5 new pods → one update to 15, no create")
    func scenario3FillExisting() throws {
        var cluster = SliceCluster(pods: manyPods(10))
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.pods += manyPods(5, from: 10)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [name])
        let slice = try #require(changes.updates.first)
        #expect(slice.endpoints.count == 15)
        // Retained endpoints keep their place; new ones are appended (documented order: pod order).
        #expect(podNames(slice) == (0..<15).map { "p\($0)" })
    }

    @Test("4. a full slice of 100 plus 5 new pods → one create of 5; the full slice is untouched")
    func scenario4FullSliceUntouched() {
        var cluster = SliceCluster(pods: manyPods(100))
        cluster.sync()
        cluster.pods += manyPods(5, from: 100)
        let changes = cluster.plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.map(\.endpoints.count) == [5])
        #expect(Set(changes.creates.flatMap(podNames)) == Set((100..<105).map { "p\($0)" }))
    }

    @Test("5. a slice of 10 with one endpoint now not ready, plus 3 new pods → one update to 13, no create")
    func scenario5ChangedSliceIsFilled() throws {
        var cluster = SliceCluster(pods: manyPods(10))
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.pods[3].status.conditions = [PodCondition(type: "Ready", status: .false)]
        cluster.pods += manyPods(3, from: 10)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [name])
        let slice = try #require(changes.updates.first)
        #expect(slice.endpoints.count == 13)
        #expect(slice.endpoints.first { $0.targetRef?.name == "p3" }?.conditions == notReady)
    }

    @Test("6a. a pod removed → its slice gets one update with fewer endpoints")
    func scenario6PodRemoved() throws {
        var cluster = SliceCluster(pods: manyPods(3))
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.pods.remove(at: 1)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [name])
        #expect(changes.updates.first.map(podNames) == ["p0", "p2"])
    }

    @Test("6b. the only endpoint of the only slice removed → one update to the placeholder shape, not a delete")
    func scenario6LastPodRemoved() throws {
        var cluster = SliceCluster(service: makeService(labels: ["team": "a"]), pods: manyPods(1))
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.pods = []
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        let slice = try #require(changes.updates.first)
        #expect(slice.name == name)
        #expect(slice.endpoints.isEmpty)
        #expect(isEmptyOrNil(slice.ports))
        #expect(slice.addressType == .ipv4)
        #expect(slice.labels == ["team": "a", serviceNameKey: "web", managedByKey: managedByValue])
        #expect(slice.metadata.ownerReferences?.first?.uid == serviceUID)
    }

    @Test("7. the Service's port changes → old slice deleted, new one created, paired into one update (same name)")
    func scenario7PortChange() throws {
        let old = storedSlice("web-old01", manyPods(3), annotations: ["foo": "bar", triggerKey: "2020-01-01T00:00:00Z"])
        let service = makeService(ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 9090)])
        var cluster = SliceCluster(service: service, pods: manyPods(3))
        cluster.slices = [old]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        let slice = try #require(changes.updates.first)
        #expect(slice.name == "web-old01")
        #expect(slice.ports == [slicePort("http", 9090)])
        #expect(podNames(slice) == ["p0", "p1", "p2"])
        // The update is the new object's content: fresh metadata, no old annotations or resourceVersion.
        #expect(slice.metadata.generateName == "web-")
        #expect(slice.metadata.resourceVersion == nil)
        #expect(slice.metadata.annotations?["foo"] == nil)
        #expect(slice.metadata.annotations?[triggerKey] == nil)
    }

    @Test("8. Service labels change → every owned slice is updated with regenerated labels, endpoints unchanged")
    func scenario8ServiceLabelsChange() {
        var cluster = SliceCluster(pods: manyPods(5), max: 2)
        cluster.sync()
        #expect(cluster.slices.count == 3)
        let before = cluster.slices
        cluster.service.metadata.labels = ["team": "a"]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(Set(changes.updates.map(\.name)) == Set(before.map(\.name)))
        for update in changes.updates {
            #expect(update.labels == ["team": "a", serviceNameKey: "web", managedByKey: managedByValue])
            #expect(update.endpoints == before.first { $0.name == update.name }?.endpoints)
        }
    }

    @Test("9. dual-stack Service, pod with both IPs → one create per address type with only that family")
    func scenario9DualStack() throws {
        let service = makeService(ipFamilies: [.ipv4, .ipv6])
        let changes = SliceCluster(service: service, pods: [makePod("a", ips: ["10.0.0.1", "fd00::1"])]).plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.count == 2)
        let v4 = try #require(changes.creates.first { $0.addressType == .ipv4 })
        let v6 = try #require(changes.creates.first { $0.addressType == .ipv6 })
        #expect(v4.endpoints.map(\.addresses) == [["10.0.0.1"]])
        #expect(v6.endpoints.map(\.addresses) == [["fd00::1"]])
        #expect(v4.ports == [slicePort()] && v6.ports == [slicePort()])
    }

    @Test("10. dual-stack switched to IPv4 only → the IPv6 slices are deleted, IPv4 reconciled normally")
    func scenario10DropFamily() throws {
        var cluster = SliceCluster(service: makeService(ipFamilies: [.ipv4, .ipv6]), pods: [makePod("a", ips: ["10.0.0.1", "fd00::1"])])
        cluster.sync()
        let v6 = try #require(cluster.slices.first { $0.addressType == .ipv6 })
        cluster.service.spec.ipFamilies = [.ipv4]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.updates.isEmpty)
        #expect(changes.deletes == [v6])
    }

    @Test("11. a slice owned by another Service UID is deleted and never paired with a create")
    func scenario11ForeignOwner() throws {
        let foreign = storedSlice("web-gone1", manyPods(1), service: makeService(uid: "old-uid"))
        var cluster = SliceCluster(pods: manyPods(1))
        cluster.slices = [foreign]
        let changes = cluster.plan()
        #expect(changes.updates.isEmpty)
        #expect(changes.deletes.map(\.name) == ["web-gone1"])
        #expect(changes.creates.count == 1)
        #expect(changes.creates.first?.name != "web-gone1")
        #expect(changes.creates.first.map(podNames) == ["p0"])

        // With no pods the placeholder is created beside the delete (not paired, not taken for a placeholder).
        cluster.pods = []
        let empty = cluster.plan()
        #expect(empty.updates.isEmpty)
        #expect(empty.deletes.map(\.name) == ["web-gone1"])
        #expect(empty.creates.count == 1)
        #expect(empty.creates.first?.endpoints.isEmpty == true)
    }

    @Test("12. terminating pod: ready=false serving=true terminating=true; with publishNotReadyAddresses ready=true")
    func scenario12Terminating() throws {
        let pod = makePod("a", ip: "10.0.0.1", ready: true, terminating: true)
        let plain = SliceCluster(pods: [pod]).plan()
        #expect(plain.creates.first?.endpoints.first?.conditions == EndpointConditions(ready: false, serving: true, terminating: true))
        let publishing = SliceCluster(service: makeService(publishNotReadyAddresses: true), pods: [pod]).plan()
        #expect(publishing.creates.first?.endpoints.first?.conditions == EndpointConditions(ready: true, serving: true, terminating: true))

        // Not ready and terminating: serving=false; publishNotReadyAddresses still makes it ready.
        let down = makePod("b", ip: "10.0.0.2", ready: false, terminating: true)
        #expect(
            SliceCluster(pods: [down]).plan().creates.first?.endpoints.first?.conditions
                == EndpointConditions(ready: false, serving: false, terminating: true))
        #expect(
            SliceCluster(service: makeService(publishNotReadyAddresses: true), pods: [down]).plan().creates.first?
                .endpoints.first?.conditions == EndpointConditions(ready: true, serving: false, terminating: true))
    }

    @Test("12b. a not-ready pod: ready=false serving=false; publishNotReadyAddresses makes it ready=true")
    func notReadyPod() {
        let pod = makePod("a", ip: "10.0.0.1", ready: false)
        #expect(SliceCluster(pods: [pod]).plan().creates.first?.endpoints.first?.conditions == notReady)
        #expect(
            SliceCluster(service: makeService(publishNotReadyAddresses: true), pods: [pod]).plan().creates.first?
                .endpoints.first?.conditions == EndpointConditions(ready: true, serving: false, terminating: false))
    }

    @Test("13. pod on an unknown node: skipped and reported; with publishNotReadyAddresses kept without zone")
    func scenario13UnknownNode() throws {
        let known = makePod("a", ip: "10.0.0.1", node: "node-a")
        let lost = makePod("b", ip: "10.0.0.2", node: "node-gone")
        let nodes = nodeLookup(["node-a": "z1"])
        let plain = SliceCluster(pods: [known, lost], nodes: nodes).plan()
        #expect(plain.creates.flatMap(podNames) == ["a"])
        #expect(plain.skippedPods.count == 1)
        #expect(plain.skippedPods.first?.contains("b") == true)
        #expect(plain.skippedPods.first?.contains("node-gone") == true)

        let publishing = SliceCluster(service: makeService(publishNotReadyAddresses: true), pods: [known, lost], nodes: nodes).plan()
        #expect(publishing.skippedPods.isEmpty)
        let endpoint = try #require(publishing.creates.flatMap(\.endpoints).first { $0.targetRef?.name == "b" })
        #expect(endpoint.nodeName == "node-gone")
        #expect(endpoint.zone == nil)
        #expect(publishing.creates.flatMap(\.endpoints).first { $0.targetRef?.name == "a" }?.zone == "z1")
    }

    @Test("13b. a pod with no nodeName is skipped when nodes are known (the empty name is not a node)")
    func unscheduledPodSkipped() {
        let changes = SliceCluster(pods: [makePod("a", ip: "10.0.0.1", node: nil)], nodes: nodeLookup(["node-a": nil])).plan()
        #expect(changes.skippedPods.count == 1)
        #expect(changes.creates.flatMap(\.endpoints).isEmpty)
    }

    @Test("13c. a node without a zone label gives nodeName but no zone")
    func nodeWithoutZone() {
        let changes = SliceCluster(pods: [makePod("a", ip: "10.0.0.1", node: "node-a")], nodes: nodeLookup(["node-a": nil])).plan()
        #expect(changes.creates.first?.endpoints.first?.nodeName == "node-a")
        #expect(changes.creates.first?.endpoints.first?.zone == nil)
        #expect(changes.skippedPods.isEmpty)
    }

    @Test("14. pods Succeeded, Failed or without an IP are excluded; a Pending pod with an IP is included")
    func scenario14Excluded() {
        let pods = [
            makePod("done", ip: "10.0.0.1", phase: .succeeded),
            makePod("failed", ip: "10.0.0.2", phase: .failed),
            makePod("noip", ips: []),
            makePod("pending", ip: "10.0.0.4", ready: false, phase: .pending),
        ]
        let changes = SliceCluster(pods: pods).plan()
        #expect(changes.creates.flatMap(podNames) == ["pending"])
        #expect(changes.skippedPods.isEmpty)
    }

    @Test("15. Service being deleted: no creates are issued, but pairing a create with a deletable slice still updates it")
    func scenario15ServiceDeleting() throws {
        let deleting = makeService(deletionTimestamp: may1)
        #expect(SliceCluster(service: deleting, pods: manyPods(2)).plan().isEmpty)
        #expect(SliceCluster(service: deleting, pods: []).plan().isEmpty)  // not even a placeholder

        // An existing slice with the old port is replaced through pairing, which is an update.
        var cluster = SliceCluster(
            service: makeService(ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 9090)], deletionTimestamp: may1),
            pods: manyPods(2))
        cluster.slices = [storedSlice("web-old01", manyPods(2))]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == ["web-old01"])
        #expect(changes.updates.first?.ports == [slicePort("http", 9090)])

        // A changed slice is still topped up (update); the overflow would be a new slice, which is dropped.
        var pods = manyPods(5)
        let stored = storedSlice("web-old01", Array(pods[0..<2]))
        pods[1].status.conditions = [PodCondition(type: "Ready", status: .false)]
        var full = SliceCluster(service: makeService(deletionTimestamp: may1), pods: pods, max: 3)
        full.slices = [stored]
        let overflow = full.plan()
        #expect(overflow.creates.isEmpty && overflow.deletes.isEmpty)
        #expect(overflow.updates.map(\.name) == ["web-old01"])
        #expect(overflow.updates.first.map(podNames) == ["p0", "p1", "p2"])
    }

    @Test("16. two pods with the same IP but different names are two endpoints")
    func scenario16SameIP() {
        let changes = SliceCluster(pods: [makePod("a", ip: "10.0.0.1"), makePod("b", ip: "10.0.0.1")]).plan()
        #expect(changes.creates.count == 1)
        #expect(changes.creates.first.map(podNames) == ["a", "b"])
        #expect(changes.creates.first?.endpoints.map(\.addresses) == [["10.0.0.1"], ["10.0.0.1"]])
    }

    @Test("2 and 3 with a small slice size: max 3, 7 pods → 3+3+1; then 1 new pod fills the slice of 1")
    func smallSliceSize() throws {
        var cluster = SliceCluster(pods: manyPods(7), max: 3)
        cluster.sync()
        #expect(cluster.slices.map(\.endpoints.count).sorted() == [1, 3, 3])
        let small = try #require(cluster.slices.first { $0.endpoints.count == 1 })
        cluster.pods += manyPods(1, from: 7)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [small.name])
        #expect(changes.updates.first?.endpoints.count == 2)
    }
}

// MARK: - §4.3 placement details

@Suite("EndpointSlice reconcile: placement (§4.3)")
struct EndpointSlicePlacementTests {
    @Test("150 new endpoints, max 100, one unchanged slice of 10 → create 100, the other 50 fill the slice (60)")
    func remainingAtLeastMaxCreatesFirst() throws {
        let old = manyPods(10)
        var cluster = SliceCluster(pods: old + manyPods(150, from: 10))
        cluster.slices = [storedSlice("web-aaaaa", old)]
        let changes = cluster.plan()
        #expect(changes.deletes.isEmpty)
        #expect(changes.creates.map(\.endpoints.count) == [100])
        #expect(changes.updates.map(\.name) == ["web-aaaaa"])
        #expect(changes.updates.first?.endpoints.count == 60)
    }

    @Test("Step 3 picks the unchanged slice that ends closest to full; an exact fit wins")
    func closestToFull() {
        let a = manyPods(7), b = manyPods(8, from: 7)
        var cluster = SliceCluster(pods: a + b + manyPods(2, from: 15), max: 10)
        cluster.slices = [storedSlice("web-aaaaa", a), storedSlice("web-bbbbb", b)]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == ["web-bbbbb"])
        #expect(changes.updates.first?.endpoints.count == 10)
    }

    @Test("Step 3 with no unchanged slice that fits creates a new slice")
    func noFitCreates() {
        let a = manyPods(9), b = manyPods(9, from: 9)
        var cluster = SliceCluster(pods: a + b + manyPods(2, from: 18), max: 10)
        cluster.slices = [storedSlice("web-aaaaa", a), storedSlice("web-bbbbb", b)]
        let changes = cluster.plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.map(\.endpoints.count) == [2])
    }

    @Test("Step 2 tops up slices already being updated, fullest first")
    func topUpFullestFirst() throws {
        var a = manyPods(5), b = manyPods(8, from: 5)
        let sliceA = storedSlice("web-aaaaa", a), sliceB = storedSlice("web-bbbbb", b)
        // One endpoint of each slice changes, so both are updated anyway.
        a[0].status.conditions = [PodCondition(type: "Ready", status: .false)]
        b[0].status.conditions = [PodCondition(type: "Ready", status: .false)]
        var cluster = SliceCluster(pods: a + b + manyPods(3, from: 13), max: 10)
        cluster.slices = [sliceA, sliceB]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        let counts = Dictionary(uniqueKeysWithValues: changes.updates.map { ($0.name, $0.endpoints.count) })
        #expect(counts == ["web-bbbbb": 10, "web-aaaaa": 6])
    }

    @Test("No compaction: removing pods leaves half-empty slices as they are")
    func noCompaction() {
        var cluster = SliceCluster(pods: manyPods(10), max: 5)
        cluster.sync()
        #expect(cluster.slices.map(\.endpoints.count) == [5, 5])
        cluster.pods.removeAll { ["p0", "p1", "p2", "p5", "p6", "p7"].contains($0.name) }
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.endpoints.count).sorted() == [2, 2])
        cluster.sync()
        #expect(cluster.plan().isEmpty)
    }

    @Test("A slice whose endpoints all go is deleted when other slices remain")
    func emptiedSliceDeleted() throws {
        var cluster = SliceCluster(pods: manyPods(6), max: 3)
        cluster.sync()
        let second = try #require(cluster.slices.first { podNames($0).contains("p4") })
        cluster.pods.removeAll { podNames(second).contains($0.name) }
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.updates.isEmpty)
        #expect(changes.deletes.map(\.name) == [second.name])
    }

    @Test("A pod recreated with the same name and IP but a new UID is updated in place")
    func recreatedPod() throws {
        var cluster = SliceCluster(pods: manyPods(3))
        cluster.sync()
        cluster.pods[1].metadata.uid = "new-uid"
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        #expect(changes.updates.first?.endpoints[1].targetRef?.uid == "new-uid")
        #expect(changes.updates.first.map(podNames) == ["p0", "p1", "p2"])
    }

    @Test("A duplicate endpoint in a later slice is dropped")
    func duplicateDropped() {
        let pods = manyPods(3)
        var cluster = SliceCluster(pods: pods)
        cluster.slices = [storedSlice("web-aaaaa", pods), storedSlice("web-bbbbb", [pods[2]])]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.updates.isEmpty)
        #expect(changes.deletes.map(\.name) == ["web-bbbbb"])
    }

    @Test("Only this Service's slices managed by the controller are considered; deleting slices are ignored")
    func sliceFiltering() throws {
        let pods = manyPods(1)
        var other = storedSlice("other-aaaaa", pods, service: makeService(name: "other"))
        other.metadata.ownerReferences = nil
        var foreignManager = storedSlice("web-mine1", pods)
        foreignManager.metadata.labels?[managedByKey] = "someone-else"
        var deleting = storedSlice("web-going", pods)
        deleting.metadata.deletionTimestamp = may1
        var cluster = SliceCluster(pods: pods)
        cluster.slices = [other, foreignManager, deleting]
        let changes = cluster.plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.count == 1)
        #expect(changes.creates.first.map(podNames) == ["p0"])
    }

    @Test("Pods outside the namespace or not matching the selector are ignored")
    func selectorApplied() {
        let pods = [
            makePod("a", ip: "10.0.0.1"),
            makePod("b", ip: "10.0.0.2", labels: ["app": "other"]),
            makePod("c", ip: "10.0.0.3", labels: nil),
            makePod("d", ips: ["10.0.0.4"], podNamespace: "elsewhere"),
            makePod("e", ip: "10.0.0.5", labels: ["app": "web", "extra": "x"]),
        ]
        #expect(SliceCluster(pods: pods).plan().creates.flatMap(podNames) == ["a", "e"])
    }
}

// MARK: - Ports

@Suite("EndpointSlice reconcile: ports")
struct EndpointSlicePortTests {
    let namedService = makeService(ports: [namedPort("http", port: 80, target: "http")])

    @Test("A named targetPort resolving differently per pod gives one slice per port list")
    func namedPortPerPod() throws {
        let a = makePod("a", ip: "10.0.0.1", containerPorts: [ContainerPort(name: "http", containerPort: 8080, protocol: .tcp)])
        let b = makePod("b", ip: "10.0.0.2", containerPorts: [ContainerPort(name: "http", containerPort: 9090, protocol: .tcp)])
        let changes = SliceCluster(service: namedService, pods: [a, b]).plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.count == 2)
        let s8080 = try #require(changes.creates.first { $0.ports == [slicePort("http", 8080)] })
        let s9090 = try #require(changes.creates.first { $0.ports == [slicePort("http", 9090)] })
        #expect(podNames(s8080) == ["a"])
        #expect(podNames(s9090) == ["b"])
    }

    @Test("A pod missing a named port gets a slice without that port")
    func missingNamedPort() throws {
        let service = makeService(ports: [
            namedPort("http", port: 80, target: "http"), namedPort("metrics", port: 9100, target: "metrics"),
        ])
        let both = makePod("a", ip: "10.0.0.1", containerPorts: [
            ContainerPort(name: "http", containerPort: 8080, protocol: .tcp),
            ContainerPort(name: "metrics", containerPort: 9100, protocol: .tcp),
        ])
        let httpOnly = makePod("b", ip: "10.0.0.2", containerPorts: [ContainerPort(name: "http", containerPort: 8080, protocol: .tcp)])
        let none = makePod("c", ip: "10.0.0.3")
        let changes = SliceCluster(service: service, pods: [both, httpOnly, none]).plan()
        #expect(changes.creates.count == 3)
        let full = try #require(changes.creates.first { ($0.ports ?? []).count == 2 })
        #expect(Set(full.ports ?? []) == [slicePort("http", 8080), slicePort("metrics", 9100)])
        #expect(podNames(full) == ["a"])
        let partial = try #require(changes.creates.first { $0.ports == [slicePort("http", 8080)] })
        #expect(podNames(partial) == ["b"])
        // No port resolves: the pod is still an endpoint, in a slice with no ports.
        let portless = try #require(changes.creates.first { ($0.ports ?? []).isEmpty })
        #expect(podNames(portless) == ["c"])
    }

    @Test("Named ports need the same protocol; sidecar (restartable init container) ports are not used in 1.32")
    func namedPortRules() {
        let service = makeService(ports: [namedPort("dns", port: 53, target: "dns", protocol: .udp)])
        let tcpOnly = makePod("a", ip: "10.0.0.1", containerPorts: [ContainerPort(name: "dns", containerPort: 5353, protocol: .tcp)])
        let udp = makePod("b", ip: "10.0.0.2", containerPorts: [ContainerPort(name: "dns", containerPort: 5353, protocol: .udp)])
        let sidecar = makePod("c", ip: "10.0.0.3", sidecarPorts: [ContainerPort(name: "dns", containerPort: 5353, protocol: .udp)])
        let changes = SliceCluster(service: service, pods: [tcpOnly, udp, sidecar]).plan()
        let withPort = changes.creates.first { $0.ports == [slicePort("dns", 5353, .udp)] }
        #expect(withPort.map(podNames) == ["b"])
        let portless = changes.creates.first { ($0.ports ?? []).isEmpty }
        #expect(portless.map(podNames) == ["a", "c"])
    }

    @Test("Several Service ports: all in one slice (compared as a set), with name, protocol and appProtocol")
    func multiplePorts() throws {
        let service = makeService(ports: [
            ServicePort(name: "metrics", protocol: .tcp, port: 9100, targetPort: 9100),
            ServicePort(name: "http", protocol: .tcp, appProtocol: "kubernetes.io/h2c", port: 80, targetPort: 8080),
            ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 53),
        ])
        let changes = SliceCluster(service: service, pods: manyPods(2)).plan()
        #expect(changes.creates.count == 1)
        let slice = try #require(changes.creates.first)
        #expect(
            Set(slice.ports ?? []) == [
                slicePort("metrics", 9100), slicePort("http", 8080, appProtocol: "kubernetes.io/h2c"), slicePort("dns", 53, .udp),
            ])
        #expect(slice.ports?.count == 3)
    }

    @Test("An unnamed Service port gives a slice port named \"\"")
    func unnamedPort() {
        let service = makeService(ports: [ServicePort(protocol: .tcp, port: 80, targetPort: 8080)])
        #expect(SliceCluster(service: service, pods: manyPods(1)).plan().creates.first?.ports == [slicePort("", 8080)])
    }

    @Test("A stored slice whose ports are absent (nil) matches the empty port list: no churn")
    func nilPortsEqualEmpty() {
        let service = makeService(ports: nil, clusterIP: "None")
        var cluster = SliceCluster(service: service, pods: manyPods(2))
        cluster.sync()
        cluster.slices[0].ports = nil
        #expect(cluster.plan().isEmpty)
    }

    @Test("A headless Service without ports: one slice with no ports holding the pods")
    func headlessNoPorts() throws {
        let service = makeService(ports: nil, clusterIP: "None")
        var cluster = SliceCluster(service: service, pods: manyPods(2))
        let changes = cluster.sync()
        #expect(changes.creates.count == 1)
        #expect(isEmptyOrNil(changes.creates.first?.ports))
        #expect(changes.creates.first.map(podNames) == ["p0", "p1"])
        #expect(cluster.plan().isEmpty)
    }
}

// MARK: - Endpoint fields

@Suite("EndpointSlice reconcile: endpoint fields")
struct EndpointSliceFieldTests {
    @Test("hostname only when the pod's subdomain is the Service name")
    func hostname() {
        let pods = [
            makePod("a", ip: "10.0.0.1", hostname: "a-host", subdomain: "web"),
            makePod("b", ip: "10.0.0.2", hostname: "b-host", subdomain: "other"),
            makePod("c", ip: "10.0.0.3", hostname: "c-host"),
            makePod("d", ip: "10.0.0.4", subdomain: "web"),
        ]
        let endpoints = SliceCluster(pods: pods).plan().creates.flatMap(\.endpoints)
        #expect(endpoints.map(\.hostname) == ["a-host", nil, nil, nil])
    }

    @Test("nodeName from the pod, zone from the node's topology label")
    func nodeAndZone() {
        let pods = [makePod("a", ip: "10.0.0.1", node: "n1"), makePod("b", ip: "10.0.0.2", node: "n2")]
        let nodes = nodeLookup(["n1": "zone-1", "n2": "zone-2"])
        let endpoints = SliceCluster(pods: pods, nodes: nodes).plan().creates.flatMap(\.endpoints)
        #expect(endpoints.map(\.nodeName) == ["n1", "n2"])
        #expect(endpoints.map(\.zone) == ["zone-1", "zone-2"])
    }

    @Test("Without node objects (.anyNode) pods are kept with nodeName and no zone; no nodeName means none")
    func anyNode() {
        let endpoints = SliceCluster(pods: [makePod("a", ip: "10.0.0.1", node: "n1"), makePod("b", ip: "10.0.0.2", node: nil)])
            .plan().creates.flatMap(\.endpoints)
        #expect(endpoints.map(\.nodeName) == ["n1", nil])
        #expect(endpoints.allSatisfy { $0.zone == nil })
    }

    @Test("IP strings are copied verbatim; IPv4-mapped IPv6 counts as IPv4")
    func addressFamilies() throws {
        let dual = makeService(ipFamilies: [.ipv4, .ipv6])
        let pods = [
            makePod("a", ips: ["10.0.0.1", "FD00:0:0::0001"]),
            makePod("b", ips: ["::ffff:10.0.0.2"]),
            makePod("c", ips: ["not-an-ip"]),
        ]
        let changes = SliceCluster(service: dual, pods: pods).plan()
        let v4 = try #require(changes.creates.first { $0.addressType == .ipv4 })
        let v6 = try #require(changes.creates.first { $0.addressType == .ipv6 })
        // An unparsable string counts as IPv4 too (Go's To4() == nil test).
        #expect(v4.endpoints.map(\.addresses) == [["10.0.0.1"], ["::ffff:10.0.0.2"], ["not-an-ip"]])
        #expect(v6.endpoints.map(\.addresses) == [["FD00:0:0::0001"]])
    }

    @Test("Address types: ipFamilies, else the ClusterIP's family, else both")
    func addressTypes() {
        let pod = makePod("a", ips: ["10.0.0.1", "fd00::1"])
        let v6 = makeService(clusterIP: "fd00:96::10", ipFamilies: nil)
        #expect(SliceCluster(service: v6, pods: [pod]).plan().creates.map(\.addressType) == [.ipv6])
        let v4 = makeService(clusterIP: "10.96.0.10", ipFamilies: nil)
        #expect(SliceCluster(service: v4, pods: [pod]).plan().creates.map(\.addressType) == [.ipv4])
        let headless = makeService(clusterIP: "None", ipFamilies: nil)
        #expect(Set(SliceCluster(service: headless, pods: [pod]).plan().creates.map(\.addressType)) == [.ipv4, .ipv6])
        let v6First = makeService(ipFamilies: [.ipv6])
        #expect(SliceCluster(service: v6First, pods: [pod]).plan().creates.map(\.addressType) == [.ipv6])
    }

    @Test("Only status.podIPs is read: a pod with podIP but no podIPs has no endpoint (its port list still counts)")
    func podIPOnly() throws {
        var pod = makePod("a", ip: "10.0.0.1")
        pod.status.podIPs = nil
        let changes = SliceCluster(pods: [pod]).plan()
        #expect(changes.creates.count == 1)
        #expect(changes.creates.first?.endpoints.isEmpty == true)
        #expect(isEmptyOrNil(changes.creates.first?.ports))
    }

    @Test("Several addresses of one family are written sorted (the identity hash sorts them in place)")
    func addressesSorted() {
        let pod = makePod("a", ips: ["10.0.0.9", "10.0.0.10"])
        let endpoints = SliceCluster(pods: [pod]).plan().creates.flatMap(\.endpoints)
        #expect(endpoints.map(\.addresses) == [["10.0.0.10", "10.0.0.9"]])
    }

    @Test("Only the first Ready condition counts; no Ready condition means not serving")
    func firstReadyCondition() {
        var twice = makePod("a", ip: "10.0.0.1")
        twice.status.conditions = [
            PodCondition(type: "Ready", status: .false), PodCondition(type: "Ready", status: .true),
        ]
        var none = makePod("b", ip: "10.0.0.2")
        none.status.conditions = [PodCondition(type: "ContainersReady", status: .true)]
        let endpoints = SliceCluster(pods: [twice, none]).plan().creates.flatMap(\.endpoints)
        #expect(endpoints.map(\.conditions) == [notReady, notReady])
    }

    @Test("Slices of an address type the Service does not want (FQDN) are deleted")
    func unwantedAddressType() throws {
        var cluster = SliceCluster(pods: manyPods(1))
        cluster.sync()
        let fqdn = storedSlice("web-fqdn1", [], type: .fqdn)
        cluster.slices.append(fqdn)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.updates.isEmpty)
        #expect(changes.deletes.map(\.name) == ["web-fqdn1"])
    }

    @Test("Dual-stack pod with only IPv4: the IPv6 side gets a placeholder")
    func dualStackMissingFamily() throws {
        let changes = SliceCluster(service: makeService(ipFamilies: [.ipv4, .ipv6]), pods: [makePod("a", ip: "10.0.0.1")]).plan()
        #expect(changes.creates.count == 2)
        #expect(changes.creates.first { $0.addressType == .ipv4 }.map(podNames) == ["a"])
        let v6 = try #require(changes.creates.first { $0.addressType == .ipv6 })
        #expect(v6.endpoints.isEmpty && isEmptyOrNil(v6.ports))
    }
}

// MARK: - Labels, owners, placeholder, skipped Services

@Suite("EndpointSlice reconcile: labels and placeholder")
struct EndpointSliceLabelTests {
    @Test("Service labels are copied except reserved keys; service-name and managed-by are set")
    func labelsFromService() {
        let service = makeService(labels: [
            "team": "a", serviceNameKey: "evil", managedByKey: "me", headlessKey: "x",
        ])
        let slice = SliceCluster(service: service, pods: manyPods(1)).plan().creates.first
        #expect(slice?.labels == ["team": "a", serviceNameKey: "web", managedByKey: managedByValue])
    }

    @Test("Headless label \"\" when clusterIP is None or empty")
    func headlessLabel() {
        for clusterIP in ["None", ""] {
            let service = makeService(clusterIP: clusterIP)
            let slice = SliceCluster(service: service, pods: manyPods(1)).plan().creates.first
            #expect(slice?.labels == [serviceNameKey: "web", managedByKey: managedByValue, headlessKey: ""])
        }
    }

    @Test("Reserved labels alone never trigger an update; a write for another reason regenerates them")
    func reservedLabelsOnly() throws {
        let service = makeService(clusterIP: "None")
        var cluster = SliceCluster(service: service, pods: manyPods(2))
        cluster.sync()
        cluster.slices[0].metadata.labels?[headlessKey] = nil
        #expect(cluster.plan().isEmpty)
        cluster.pods[0].status.conditions = [PodCondition(type: "Ready", status: .false)]
        let changes = cluster.plan()
        #expect(changes.updates.first?.labels[headlessKey] == "")
    }

    @Test("No pods, no slices → one placeholder create")
    func placeholderCreated() throws {
        let changes = SliceCluster(service: makeService(labels: ["team": "a"])).plan()
        #expect(changes.updates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.creates.count == 1)
        let placeholder = try #require(changes.creates.first)
        #expect(placeholder.addressType == .ipv4)
        #expect(placeholder.endpoints.isEmpty)
        #expect(isEmptyOrNil(placeholder.ports))
        #expect(placeholder.labels == ["team": "a", serviceNameKey: "web", managedByKey: managedByValue])
        #expect(placeholder.metadata.generateName == "web-")
        #expect(placeholder.metadata.ownerReferences?.first?.uid == serviceUID)
    }

    @Test("No pods and an identical placeholder exists → no operations (other metadata ignored)")
    func placeholderKept() {
        var cluster = SliceCluster()
        cluster.sync(triggerTime: may1)
        cluster.slices[0].metadata.resourceVersion = "99"
        cluster.slices[0].metadata.annotations = ["anything": "else"]
        #expect(cluster.plan().isEmpty)
        #expect(cluster.plan(triggerTime: may1.adding(seconds: 5)).isEmpty)
    }

    @Test("No pods, placeholder exists, Service labels changed → one update of the placeholder")
    func placeholderRelabelled() throws {
        var cluster = SliceCluster()
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.service.metadata.labels = ["team": "b"]
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [name])
        #expect(changes.updates.first?.labels["team"] == "b")
        #expect(changes.updates.first?.endpoints.isEmpty == true)
    }

    @Test("Pods appear while a placeholder exists → one update of the placeholder slice (name kept)")
    func placeholderFilled() throws {
        var cluster = SliceCluster()
        cluster.sync()
        let name = cluster.slices[0].name
        cluster.pods = manyPods(2)
        let changes = cluster.plan()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.map(\.name) == [name])
        #expect(changes.updates.first?.ports == [slicePort()])
        #expect(changes.updates.first.map(podNames) == ["p0", "p1"])
    }

    @Test("Dual-stack or headless without families and no pods → one placeholder per address type")
    func placeholderPerType() {
        let dual = SliceCluster(service: makeService(ipFamilies: [.ipv4, .ipv6])).plan()
        #expect(dual.creates.map(\.addressType) == [.ipv4, .ipv6])
        #expect(dual.creates.allSatisfy { $0.endpoints.isEmpty })
        let headless = SliceCluster(service: makeService(ports: nil, clusterIP: "None", ipFamilies: nil)).plan()
        #expect(Set(headless.creates.map(\.addressType)) == [.ipv4, .ipv6])
        #expect(headless.creates.allSatisfy { $0.labels[headlessKey] == "" })
    }

    @Test("Selector-less and ExternalName Services get no slices at all, and existing ones are left alone")
    func skippedServices() {
        let existing = [storedSlice("web-aaaaa", manyPods(1))]
        for service in [makeService(selector: nil), makeService(type: .externalName)] {
            var cluster = SliceCluster(service: service, pods: manyPods(2))
            #expect(cluster.plan().isEmpty)
            #expect(cluster.plan().creates.isEmpty)
            cluster.slices = existing
            #expect(cluster.plan().isEmpty)
        }
    }
}

// MARK: - Trigger time, hints, churn

@Suite("EndpointSlice reconcile: annotations, hints and churn")
struct EndpointSliceChurnTests {
    @Test("Trigger time is written as RFC3339Nano (UTC, trailing zeros dropped)")
    func triggerTimeFormat() {
        let cases: [(Time, String)] = [
            (may1, "2024-05-01T10:00:00Z"),
            (Time(seconds: may1.seconds, nanoseconds: 500_000_000), "2024-05-01T10:00:00.5Z"),
            (Time(seconds: may1.seconds, nanoseconds: 123_456_789), "2024-05-01T10:00:00.123456789Z"),
            (Time(seconds: may1.seconds, nanoseconds: 120_000_000), "2024-05-01T10:00:00.12Z"),
        ]
        for (time, text) in cases {
            let slice = SliceCluster(pods: manyPods(1)).plan(triggerTime: time).creates.first
            #expect(slice?.metadata.annotations?[triggerKey] == text)
        }
    }

    @Test("Trigger time set on updates; removed when a write has no trigger time; other annotations kept")
    func triggerTimeOnUpdates() throws {
        var cluster = SliceCluster(pods: manyPods(2))
        cluster.sync(triggerTime: may1)
        #expect(cluster.slices[0].metadata.annotations?[triggerKey] == "2024-05-01T10:00:00Z")
        cluster.slices[0].metadata.annotations?["foo"] = "bar"

        cluster.pods[0].status.conditions = [PodCondition(type: "Ready", status: .false)]
        let later = Time(seconds: may1.seconds + 60, nanoseconds: 5)
        let stamped = cluster.plan(triggerTime: later)
        #expect(stamped.updates.first?.metadata.annotations == ["foo": "bar", triggerKey: "2024-05-01T10:01:00.000000005Z"])

        let unstamped = cluster.plan(triggerTime: nil)
        #expect(unstamped.updates.count == 1)
        #expect(unstamped.updates.first?.metadata.annotations?[triggerKey] == nil)
        #expect(unstamped.updates.first?.metadata.annotations?["foo"] == "bar")
    }

    @Test("A changed trigger time alone writes nothing")
    func triggerTimeAloneNoWrite() {
        var cluster = SliceCluster(pods: manyPods(2))
        cluster.sync(triggerTime: may1)
        #expect(cluster.plan(triggerTime: may1.adding(seconds: 100)).isEmpty)
    }

    @Test("Reconciling the applied result again gives no operations")
    func idempotent() {
        let service = makeService(labels: ["team": "a"], ipFamilies: [.ipv4, .ipv6])
        var pods = manyPods(23)
        pods[4].status.conditions = [PodCondition(type: "Ready", status: .false)]
        pods.append(makePod("dual", ips: ["10.9.0.1", "fd00::9"], terminating: true))
        var cluster = SliceCluster(service: service, pods: pods, max: 5)
        cluster.sync(triggerTime: may1)
        #expect(cluster.plan().isEmpty)
        #expect(cluster.plan(triggerTime: may1).isEmpty)
    }

    @Test("One pod's change touches exactly one slice")
    func onePodOneSlice() throws {
        var cluster = SliceCluster(pods: manyPods(12), max: 5)
        cluster.sync()
        #expect(cluster.slices.map(\.endpoints.count) == [5, 5, 2])

        cluster.pods[7].status.conditions = [PodCondition(type: "Ready", status: .false)]
        var changes = cluster.sync()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        #expect(changes.updates.first.map(podNames)?.contains("p7") == true)

        cluster.pods.remove(at: 0)
        changes = cluster.sync()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        #expect(changes.updates.first?.endpoints.count == 4)

        cluster.pods.append(makePod("new", ip: "10.2.0.1"))
        changes = cluster.sync()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        #expect(changes.updates.first?.endpoints.count == 5)  // the exact fit (4 + 1)

        cluster.pods[3].status.podIPs = [PodIP(ip: "10.3.0.1")]
        cluster.pods[3].status.podIP = "10.3.0.1"
        changes = cluster.sync()
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        #expect(cluster.plan().isEmpty)
    }

    @Test("Leftover hints are stripped by default (an update even though endpoints are unchanged)")
    func staleHintsStripped() throws {
        var cluster = SliceCluster(pods: manyPods(2))
        cluster.sync()
        cluster.slices[0].endpoints[0].hints = EndpointHints(forZones: [ForZone(name: "z1")])
        let changes = cluster.plan()
        #expect(changes.updates.count == 1)
        #expect(changes.updates.first?.endpoints.allSatisfy { $0.hints == nil } == true)
    }

    @Test("trafficDistribution PreferClose: ready endpoints with a zone get hints for their zone")
    func preferClose() throws {
        let service = makeService(trafficDistribution: "PreferClose")
        let pods = [
            makePod("a", ip: "10.0.0.1", node: "n1"), makePod("b", ip: "10.0.0.2", ready: false, node: "n1"),
            makePod("c", ip: "10.0.0.3", node: "n2"),
        ]
        var cluster = SliceCluster(service: service, pods: pods, nodes: nodeLookup(["n1": "z1", "n2": nil]))
        let changes = cluster.sync()
        let endpoints = try #require(changes.creates.first?.endpoints)
        #expect(endpoints.map(\.hints) == [EndpointHints(forZones: [ForZone(name: "z1")]), nil, nil])
        #expect(cluster.plan().isEmpty)
    }
}
