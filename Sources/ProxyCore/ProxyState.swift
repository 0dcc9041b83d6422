import IPAM
import KubeAPI

/// The desired state of one node's data plane: kube-proxy's service and endpoints maps, computed from the
/// Services and EndpointSlices it watches. Pure: the same input always gives the same state.
public struct ProxyState: Sendable, Hashable {
    public var servicePorts: [ServicePortState]
    public var skipped: [SkippedObject]

    public init(servicePorts: [ServicePortState], skipped: [SkippedObject] = []) {
        self.servicePorts = servicePorts
        self.skipped = skipped
    }

    /// - Parameters:
    ///   - family: the address family programmed (one table per family).
    ///   - nodeName: this node, for `internalTrafficPolicy: Local`.
    public static func build(services: [Service], slices: [EndpointSlice], family: IPFamily, nodeName: String?) -> ProxyState {
        build(services: services.map(ProxyService.init), slices: slices.map(ProxyEndpointSlice.init), family: family, nodeName: nodeName)
    }

    /// The same from the fields a proxier keeps of each object.
    public static func build(services: [ProxyService], slices: [ProxyEndpointSlice], family: IPFamily, nodeName: String?) -> ProxyState {
        var byService: [String: [ProxyEndpointSlice]] = [:]
        for slice in slices {
            guard let owner = slice.serviceName else { continue }
            byService["\(slice.namespace)/\(owner)", default: []].append(slice)
        }
        var ports: [ServicePortState] = []
        var skipped: [SkippedObject] = []
        // `addressType` IPv4 for the IPv4 table, IPv6 for any other.
        let sliceFamily: IPFamily = family == .ipv4 ? .ipv4 : .ipv6
        for service in services {
            let namespace = service.namespace
            let name = service.name
            guard !service.isExternalName else { continue }
            guard let clusterIP = service.clusterIP(family) else { continue }  // headless, or the other family
            let local = service.internalTrafficLocal
            let affinityTimeout = service.affinityTimeout
            if let timeout = affinityTimeout, !(1...86400).contains(timeout) {
                skipped.append(SkippedObject(object: "Service \(namespace)/\(name)", reason: "sessionAffinity timeout \(timeout) s is out of range"))
                continue
            }
            let serviceSlices = (byService["\(namespace)/\(name)"] ?? []).filter { $0.family == sliceFamily }
            for servicePort in service.ports {
                let transport = servicePort.transport
                let portName = servicePort.name
                let label = "\(namespace)/\(name):\(portName.isEmpty ? String(servicePort.port) : portName)"
                guard ["tcp", "udp", "sctp"].contains(transport) else {
                    skipped.append(SkippedObject(object: "Service \(label)", reason: "protocol \(transport) is not supported"))
                    continue
                }
                guard (1...65535).contains(Int(servicePort.port)) else {
                    skipped.append(SkippedObject(object: "Service \(label)", reason: "port \(servicePort.port) is out of range"))
                    continue
                }
                var ready: Set<EndpointTarget> = []
                var terminating: Set<EndpointTarget> = []
                var usableElsewhere = false
                for slice in serviceSlices {
                    guard let port = slice.ports.first(where: { $0.name == portName && $0.transport == transport }), let number = port.port else { continue }
                    guard (1...65535).contains(Int(number)) else {
                        skipped.append(SkippedObject(object: "EndpointSlice \(namespace)/\(slice.name)", reason: "port \(number) is out of range"))
                        continue
                    }
                    for endpoint in slice.addresses {
                        if local && endpoint.nodeName != nodeName {
                            if endpoint.isReady || (endpoint.isServing && endpoint.isTerminating) { usableElsewhere = true }
                            continue
                        }
                        guard let text = endpoint.address else { continue }  // an endpoint without addresses
                        guard let address = IPAddress(text), address.family == family else {
                            skipped.append(SkippedObject(
                                object: "EndpointSlice \(namespace)/\(slice.name)",
                                reason: "address \(text) is not an \(family == .ipv4 ? "IPv4" : "IPv6") address"))
                            continue
                        }
                        let target = EndpointTarget(address: address, port: Int(number))
                        if endpoint.isReady {
                            ready.insert(target)
                        } else if endpoint.isServing && endpoint.isTerminating {
                            terminating.insert(target)
                        }
                    }
                }
                // No ready endpoint: serving-terminating ones take the traffic rather than none (KEP-1669).
                let chosen = ready.isEmpty ? terminating : ready
                ports.append(
                    ServicePortState(
                        name: label, clusterIP: clusterIP, transport: transport, port: Int(servicePort.port), endpoints: chosen.sorted(),
                        dropWhenEmpty: chosen.isEmpty && usableElsewhere, affinityTimeout: affinityTimeout))
            }
        }
        ports.sort { ($0.clusterIP.integerValue, $0.transport, $0.port) < ($1.clusterIP.integerValue, $1.transport, $1.port) }
        return ProxyState(servicePorts: ports, skipped: skipped)
    }
}
