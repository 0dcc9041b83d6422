import IPAM
import KubeAPI

/// The endpoint a pod should have in a Service's slices of one address type, if any.
struct DesiredEndpoint: Hashable {
    /// The port list the pod's endpoint lives under. Registered even when the pod ends up with no endpoint.
    var key: EndpointPortKey
    /// Nil when the pod has no address of the family, or its node is unknown.
    var endpoint: Endpoint?
    /// Why the pod was left out, when it should be retried later (its node is unknown).
    var problem: String?
}

/// Builds desired endpoints for one Service: resolves ports (once, when no targetPort is a name) and converts pods.
struct EndpointBuilder {
    let service: Service
    let nodes: NodeLookup
    /// The resolved ports when they do not depend on the pod (no named targetPort).
    private let sharedKey: EndpointPortKey?

    init(service: Service, nodes: NodeLookup) {
        self.service = service
        self.nodes = nodes
        let ports = service.ports
        if ports.isEmpty && service.isHeadless {
            sharedKey = EndpointPortKey([])
        } else if ports.allSatisfy({ $0.targetPort?.stringValue == nil }) {
            sharedKey = EndpointPortKey(ports.map { sp in
                EndpointPort(
                    name: sp.name ?? "", port: sp.targetPort?.intValue ?? sp.port, protocol: sp.protocol,
                    appProtocol: sp.appProtocol)
            })
        } else {
            sharedKey = nil
        }
    }

    /// The last resolution of named ports, reused while consecutive pods resolve the same way (pods of one
    /// template do), which spares building and comparing a new port list per pod.
    struct PortCache {
        var numbers: [Int32?] = []
        var key: EndpointPortKey?
    }

    /// Upstream `getEndpointPorts`: each Service port that resolves on this pod, in spec order.
    func portKey(for pod: borrowing Pod, cache: inout PortCache) -> EndpointPortKey {
        if let sharedKey { return sharedKey }
        let ports = service.spec.ports ?? []
        if let key = cache.key, cache.numbers.count == ports.count {
            var same = true
            for i in ports.indices where PodEndpointRules.findPort(pod, ports[i], includeSidecars: false) != cache.numbers[i] {
                same = false
                break
            }
            if same { return key }
        }
        var numbers: [Int32?] = []
        var out: [EndpointPort] = []
        for i in ports.indices {
            let number = PodEndpointRules.findPort(pod, ports[i], includeSidecars: false)
            numbers.append(number)
            guard let number else { continue }
            out.append(EndpointPort(name: ports[i].name ?? "", port: number, protocol: ports[i].protocol, appProtocol: ports[i].appProtocol))
        }
        let key = EndpointPortKey(out)
        cache = PortCache(numbers: numbers, key: key)
        return key
    }

    /// The pod's desired endpoint for `addressType`, or nil when the pod is not an endpoint at all (terminal, no IP).
    func desired(_ pod: borrowing Pod, addressType: AddressType) -> DesiredEndpoint? {
        var cache = PortCache()
        return desired(pod, addressType: addressType, cache: &cache)
    }

    /// As `desired(_:addressType:)`, reusing port resolutions across calls.
    func desired(_ pod: borrowing Pod, addressType: AddressType, cache: inout PortCache) -> DesiredEndpoint? {
        guard PodEndpointRules.shouldBeInEndpoints(pod, includeTerminating: true) else { return nil }
        let key = portKey(for: pod, cache: &cache)
        let nodeName = pod.spec.nodeName ?? ""
        let node = nodes.find(nodeName)
        if !node.found && !service.publishesNotReadyAddresses {
            return DesiredEndpoint(
                key: key, endpoint: nil,
                problem: "skipping Pod \(pod.name) for Service \(service.namespace)/\(service.name): Node \(nodeName) Not Found")
        }
        let wantIPv6 = addressType == .ipv6
        var addresses: [String] = []
        if let ips = pod.status.podIPs {
            for i in ips.indices where PodEndpointRules.isIPv6(ips[i].ip) == wantIPv6 { addresses.append(ips[i].ip) }
        }
        guard !addresses.isEmpty else { return DesiredEndpoint(key: key, endpoint: nil, problem: nil) }
        let serving = PodEndpointRules.isReady(pod)
        let terminating = pod.metadata.deletionTimestamp != nil
        // Built in one go: setting fields afterwards would copy the endpoint.
        let endpoint = Endpoint(
            addresses: addresses.count > 1 ? addresses.sorted() : addresses,
            conditions: EndpointConditions(
                ready: service.publishesNotReadyAddresses || (serving && !terminating),
                serving: serving, terminating: terminating),
            hostname: PodEndpointRules.shouldSetHostname(pod, service) ? pod.spec.hostname : nil,
            targetRef: ObjectReference(kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid),
            nodeName: nodeName.isEmpty ? nil : nodeName, zone: node.zone)
        return DesiredEndpoint(key: key, endpoint: endpoint, problem: nil)
    }
}

extension Service {
    /// Upstream `getAddressTypesForService`: from `ipFamilies`, else the ClusterIP's family, else both.
    /// Always in the order IPv4, IPv6.
    var endpointAddressTypes: [AddressType] {
        var types = Set<AddressType>()
        for family in spec.ipFamilies ?? [] {
            if family == .ipv4 { types.insert(.ipv4) }
            if family == .ipv6 { types.insert(.ipv6) }
        }
        if types.isEmpty {
            if let ip = spec.clusterIP, !ip.isEmpty, ip != "None" {
                types.insert(PodEndpointRules.isIPv6(ip) ? .ipv6 : .ipv4)
            } else {
                types = [.ipv4, .ipv6]
            }
        }
        return [AddressType.ipv4, .ipv6].filter(types.contains)
    }
}

extension Pod {
    /// `EndpointBuilder.desired` called on the pod in place (as a method, the pod is not copied first).
    @inline(__always)
    func desiredEndpoint(
        _ builder: EndpointBuilder, addressType: AddressType, cache: inout EndpointBuilder.PortCache
    ) -> DesiredEndpoint? {
        builder.desired(self, addressType: addressType, cache: &cache)
    }
}
