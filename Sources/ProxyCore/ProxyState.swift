import IPAM
import KubeAPI

/// The desired state of one node's data plane: kube-proxy's service and endpoints maps, computed from the
/// Services and EndpointSlices it watches. Pure: the same input always gives the same state.
public struct ProxyState: Sendable, Hashable {
    public var servicePorts: [ServicePortState]
    public var skipped: [SkippedObject]

    /// - Parameters:
    ///   - family: the address family programmed (one table per family).
    ///   - nodeName: this node, for `internalTrafficPolicy: Local`.
    public static func build(services: [Service], slices: [EndpointSlice], family: IPFamily, nodeName: String?) -> ProxyState {
        var byService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let owner = slice.metadata.labels?["kubernetes.io/service-name"] else { continue }
            byService["\(slice.metadata.namespace ?? "")/\(owner)", default: []].append(slice)
        }
        var ports: [ServicePortState] = []
        var skipped: [SkippedObject] = []
        let addressType: AddressType = family == .ipv4 ? .ipv4 : .ipv6
        for service in services {
            let namespace = service.metadata.namespace ?? ""
            let name = service.metadata.name ?? ""
            let type = service.spec.type ?? .clusterIP
            guard type != .externalName else { continue }
            let ips = (service.spec.clusterIPs ?? service.spec.clusterIP.map { [$0] } ?? [])
            guard let ipText = ips.first(where: { IPAddress($0)?.family == family }) else { continue }  // headless, or the other family
            guard let clusterIP = IPAddress(ipText) else { continue }
            let local = service.spec.internalTrafficPolicy == .local
            let affinityTimeout = service.spec.sessionAffinity == .clientIP
                ? Int(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? Service.defaultClientIPAffinitySeconds) : nil
            if let timeout = affinityTimeout, !(1...86400).contains(timeout) {
                skipped.append(SkippedObject(object: "Service \(namespace)/\(name)", reason: "sessionAffinity timeout \(timeout) s is out of range"))
                continue
            }
            let serviceSlices = (byService["\(namespace)/\(name)"] ?? []).filter { $0.addressType == addressType }
            for servicePort in service.spec.ports ?? [] {
                let transport = (servicePort.protocol ?? .tcp).rawValue.lowercased()
                let portName = servicePort.name ?? ""
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
                    guard let port = (slice.ports ?? []).first(where: {
                        ($0.name ?? "") == portName && ($0.protocol ?? .tcp).rawValue.lowercased() == transport
                    }), let number = port.port else { continue }
                    guard (1...65535).contains(Int(number)) else {
                        skipped.append(SkippedObject(object: "EndpointSlice \(namespace)/\(slice.metadata.name ?? "")", reason: "port \(number) is out of range"))
                        continue
                    }
                    for endpoint in slice.endpoints {
                        if local && endpoint.nodeName != nodeName {
                            if endpoint.conditions.isReady || (endpoint.conditions.isServing && endpoint.conditions.isTerminating) { usableElsewhere = true }
                            continue
                        }
                        for text in endpoint.addresses {
                            guard let address = IPAddress(text), address.family == family else {
                                skipped.append(SkippedObject(
                                    object: "EndpointSlice \(namespace)/\(slice.metadata.name ?? "")",
                                    reason: "address \(text) is not an \(family == .ipv4 ? "IPv4" : "IPv6") address"))
                                continue
                            }
                            let target = EndpointTarget(address: address, port: Int(number))
                            if endpoint.conditions.isReady {
                                ready.insert(target)
                            } else if endpoint.conditions.isServing && endpoint.conditions.isTerminating {
                                terminating.insert(target)
                            }
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
