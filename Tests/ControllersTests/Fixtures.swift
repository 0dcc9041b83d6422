import Controllers
import IPAM
import KubeAPI
import Testing

// Builders for the objects the controllers read, and small helpers to apply their output.
// Expected values in the tests follow upstream Kubernetes 1.32 (see /work/notes/k8s-endpointslice.md).

let namespace = "default"
let serviceUID = "svc-uid-1"

let triggerKey = "endpoints.kubernetes.io/last-change-trigger-time"
let overCapacityKey = "endpoints.kubernetes.io/over-capacity"
let serviceNameKey = "kubernetes.io/service-name"
let managedByKey = "endpointslice.kubernetes.io/managed-by"
let managedByValue = "endpointslice-controller.k8s.io"
let headlessKey = "service.kubernetes.io/headless"
let zoneKey = "topology.kubernetes.io/zone"

/// 2024-05-01T10:00:00Z
let may1 = Time(seconds: 1_714_557_600)

/// A defaulted ClusterIP Service `web` selecting `app=web`, one port `http` 80 → 8080/TCP, IPv4.
func makeService(
    name: String = "web", uid: String = serviceUID, labels: [String: String]? = nil,
    selector: [String: String]? = ["app": "web"],
    ports: [ServicePort]? = [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)],
    clusterIP: String? = "10.96.0.10", ipFamilies: [IPFamily]? = [.ipv4], type: ServiceType = .clusterIP,
    publishNotReadyAddresses: Bool? = nil, trafficDistribution: String? = nil, deletionTimestamp: Time? = nil
) -> Service {
    var spec = ServiceSpec(
        type: type, selector: selector, ports: ports, clusterIP: clusterIP,
        clusterIPs: clusterIP.map { [$0] }, ipFamilies: ipFamilies,
        publishNotReadyAddresses: publishNotReadyAddresses)
    spec.trafficDistribution = trafficDistribution
    return Service(
        metadata: ObjectMeta(
            name: name, namespace: namespace, uid: uid, deletionTimestamp: deletionTimestamp, labels: labels),
        spec: spec)
}

/// A named-targetPort Service port (`targetPort: <target>`).
func namedPort(_ name: String, port: Int32, target: String, protocol: TransportProtocol = .tcp) -> ServicePort {
    ServicePort(name: name, protocol: `protocol`, port: port, targetPort: .string(target))
}

/// A running pod labelled `app=web` on `node-a`, ready, with the given IPs (`status.podIPs` in order).
func makePod(
    _ name: String, ips: [String], ready: Bool = true, node: String? = "node-a",
    labels: [String: String]? = ["app": "web"], podNamespace: String = namespace, uid: String? = nil,
    phase: PodPhase? = .running, terminating: Bool = false, hostname: String? = nil, subdomain: String? = nil,
    containerPorts: [ContainerPort] = [], sidecarPorts: [ContainerPort] = []
) -> Pod {
    var pod = Pod(
        metadata: ObjectMeta(
            name: name, namespace: podNamespace, uid: uid ?? "uid-\(name)",
            deletionTimestamp: terminating ? may1 : nil, labels: labels),
        spec: PodSpec(
            containers: [Container(name: "main", ports: containerPorts.isEmpty ? nil : containerPorts)],
            nodeName: node, hostname: hostname, subdomain: subdomain),
        status: PodStatus(
            phase: phase,
            conditions: [PodCondition(type: PodCondition.ready, status: ready ? .true : .false)],
            podIP: ips.first, podIPs: ips.isEmpty ? nil : ips.map(PodIP.init(ip:))))
    if !sidecarPorts.isEmpty {
        var sidecar = Container(name: "sidecar", ports: sidecarPorts)
        sidecar.restartPolicy = .always
        pod.spec.initContainers = [sidecar]
    }
    return pod
}

func makePod(
    _ name: String, ip: String, ready: Bool = true, node: String? = "node-a",
    labels: [String: String]? = ["app": "web"], uid: String? = nil, phase: PodPhase? = .running,
    terminating: Bool = false, hostname: String? = nil, subdomain: String? = nil,
    containerPorts: [ContainerPort] = [], sidecarPorts: [ContainerPort] = []
) -> Pod {
    makePod(
        name, ips: [ip], ready: ready, node: node, labels: labels, uid: uid, phase: phase, terminating: terminating,
        hostname: hostname, subdomain: subdomain, containerPorts: containerPorts, sidecarPorts: sidecarPorts)
}

/// `count` ready pods `p0`, `p1`, … with IPs 10.1.x.y.
func manyPods(_ count: Int, prefix: String = "p", from start: Int = 0, ready: Bool = true) -> [Pod] {
    (start..<(start + count)).map { i in makePod("\(prefix)\(i)", ip: "10.1.\(i / 250).\(i % 250 + 1)", ready: ready) }
}

func makeNode(_ name: String, zone: String? = nil) -> Node {
    Node(metadata: ObjectMeta(name: name, labels: zone.map { [zoneKey: $0] }))
}

/// A node lookup with exactly these nodes (name → zone label, nil for no zone label).
func nodeLookup(_ zones: [String: String?]) -> NodeLookup {
    .nodes(Dictionary(uniqueKeysWithValues: zones.map { ($0.key, makeNode($0.key, zone: $0.value)) }))
}

func targetRef(_ pod: Pod) -> ObjectReference {
    ObjectReference(kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid)
}

/// The slice port of a Service port resolved to `port`.
func slicePort(_ name: String = "http", _ port: Int32 = 8080, _ proto: TransportProtocol = .tcp, appProtocol: String? = nil)
    -> EndpointPort
{
    EndpointPort(name: name, port: port, protocol: proto, appProtocol: appProtocol)
}

/// The controller's view of a cluster for one Service: apply each sync's output to the stored slices, as the API
/// server would, so that the next sync sees the result.
struct SliceCluster {
    var service: Service
    var pods: [Pod]
    var slices: [EndpointSlice] = []
    var nodes: NodeLookup = .anyNode
    var reconciler: EndpointSliceReconciler
    var names = SliceNameGenerator(seed: 42)

    init(service: Service = makeService(), pods: [Pod] = [], max: Int = 100, nodes: NodeLookup = .anyNode) {
        self.service = service
        self.pods = pods
        self.nodes = nodes
        self.reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: max)
    }

    /// What a sync would write now (nothing is applied).
    func plan(triggerTime: Time? = nil) -> EndpointSliceChanges {
        var names = names
        return reconciler.reconcile(
            service: service, pods: pods, existingSlices: slices, nodes: nodes, triggerTime: triggerTime, names: &names)
    }

    /// Runs a sync and stores its result.
    @discardableResult
    mutating func sync(triggerTime: Time? = nil) -> EndpointSliceChanges {
        let changes = reconciler.reconcile(
            service: service, pods: pods, existingSlices: slices, nodes: nodes, triggerTime: triggerTime, names: &names)
        slices = applying(changes, to: slices)
        return changes
    }

    func slice(named name: String) -> EndpointSlice? { slices.first { $0.name == name } }
}

/// The stored slices once `changes` are written: deletes removed, updates replace by name (in place), creates
/// appended.
func applying(_ changes: EndpointSliceChanges, to slices: [EndpointSlice]) -> [EndpointSlice] {
    let deleted = Set(changes.deletes.map(\.name))
    var result = slices.filter { !deleted.contains($0.name) }
    for update in changes.updates {
        if let i = result.firstIndex(where: { $0.name == update.name }) {
            result[i] = update
        } else {
            result.append(update)
        }
    }
    return result + changes.creates
}

/// The pod names referenced by a slice's endpoints, in slice order.
func podNames(_ slice: EndpointSlice) -> [String] { slice.endpoints.map { $0.targetRef?.name ?? "?" } }

/// Total endpoints over slices.
func endpointCount(_ slices: [EndpointSlice]) -> Int { slices.reduce(0) { $0 + $1.endpoints.count } }

extension EndpointsChange {
    /// The object written, or nil for `.none`.
    var written: Endpoints? {
        switch self {
        case .none: nil
        case .create(let e), .update(let e): e
        }
    }

    var isCreate: Bool { if case .create = self { true } else { false } }
    var isUpdate: Bool { if case .update = self { true } else { false } }
}

/// A small deterministic random number generator for property tests (SplitMix64).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ upperBound: Int) -> Int { Int(next() % UInt64(upperBound)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
}

/// True for nil and for an empty list (the API treats them alike).
func isEmptyOrNil<T>(_ list: [T]?) -> Bool { list?.isEmpty ?? true }
