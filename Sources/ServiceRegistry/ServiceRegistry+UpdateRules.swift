import IPAM
import KubeAPI

extension ServiceRegistry {
    /// On create, a lone `clusterIP` also fills `clusterIPs`.
    static func normalizeClusterIPsOnCreate(_ service: inout Service) {
        if let ip = service.spec.clusterIP, !ip.isEmpty, (service.spec.clusterIPs ?? []).isEmpty {
            service.spec.clusterIPs = [ip]
        }
    }

    /// On update, keep `clusterIP` and `clusterIPs` in step for clients that only know one of them.
    static func normalizeClusterIPsOnUpdate(_ service: inout Service, old: Service) {
        let oldIPs = old.spec.clusterIPs ?? []
        if !oldIPs.isEmpty && (service.spec.clusterIPs ?? []).isEmpty && old.spec.clusterIP == service.spec.clusterIP {
            service.spec.clusterIPs = oldIPs
        }
        if (service.spec.clusterIP ?? "") != (old.spec.clusterIP ?? "") {
            let ipsUnchanged = (service.spec.clusterIPs ?? []) == oldIPs
            if (service.spec.clusterIP ?? "").isEmpty && ipsUnchanged {
                service.spec.clusterIPs = nil
            } else if ipsUnchanged, let ip = service.spec.clusterIP {
                service.spec.clusterIPs = [ip]
            }
        }
    }

    /// `patchAllocatedValues`: a re-applied manifest that omits what the server allocated keeps it.
    static func patchAllocatedValues(_ service: inout Service, old: Service) {
        if service.type != .externalName && old.type != .externalName {
            if (service.spec.clusterIP ?? "").isEmpty { service.spec.clusterIP = old.spec.clusterIP }
            if (service.spec.clusterIPs ?? []).isEmpty && !(old.spec.clusterIPs ?? []).isEmpty {
                service.spec.clusterIPs = old.spec.clusterIPs
            }
        }
        let needsNodePorts: (Service) -> Bool = { $0.type == .nodePort || $0.type == .loadBalancer }
        if needsNodePorts(service) && needsNodePorts(old), var ports = service.spec.ports {
            let oldByName = Dictionary((old.spec.ports ?? []).map { ($0.name ?? "", $0.nodePort ?? 0) }, uniquingKeysWith: { a, _ in a })
            let used = Set(ports.compactMap(\.nodePort)).intersection((old.spec.ports ?? []).compactMap(\.nodePort))
            for i in ports.indices where (ports[i].nodePort ?? 0) == 0 {
                if let np = oldByName[ports[i].name ?? ""], np != 0, !used.contains(np) { ports[i].nodePort = np }
            }
            service.spec.ports = ports
        }
        if service.type == .loadBalancer && old.type == .loadBalancer && service.spec.externalTrafficPolicy == .local
            && old.spec.externalTrafficPolicy == .local && (service.spec.healthCheckNodePort ?? 0) == 0
        {
            service.spec.healthCheckNodePort = old.spec.healthCheckNodePort
        }
    }

    /// `defaultOnRead`: Services stored by older servers get the IP family fields they would have today.
    func defaultedOnRead(_ stored: Service) -> Service {
        var service = stored
        Self.normalizeClusterIPsOnCreate(&service)
        if service.type == .externalName {
            service.spec.internalTrafficPolicy = nil
            return service
        }
        guard (service.spec.ipFamilies ?? []).isEmpty else { return service }
        let primary = allocator.primaryFamily
        if service.isHeadless {
            if service.selector == nil {
                service.spec.ipFamilyPolicy = .requireDualStack
                service.spec.ipFamilies = [primary, primary.other]
            } else {
                service.spec.ipFamilyPolicy = .singleStack
                service.spec.ipFamilies = [primary]
            }
        } else {
            let families = service.clusterIPAddresses.map(\.family)
            if !families.isEmpty {
                service.spec.ipFamilies = families
                service.spec.ipFamilyPolicy = families.count > 1 ? .requireDualStack : .singleStack
            }
        }
        return service
    }

    /// `dropTypeDependentFields`: fields that only made sense for the old type go when the type changes,
    /// unless the user changed them in the same request.
    static func dropTypeDependentFields(_ service: inout Service, old: Service) {
        if old.type != .externalName && service.type == .externalName {
            if service.spec.clusterIP == old.spec.clusterIP && service.spec.clusterIPs == old.spec.clusterIPs {
                service.spec.clusterIP = nil
                service.spec.clusterIPs = nil
            }
            if service.spec.ipFamilies == old.spec.ipFamilies { service.spec.ipFamilies = nil }
            if service.spec.ipFamilyPolicy == old.spec.ipFamilyPolicy { service.spec.ipFamilyPolicy = nil }
        }
        let hadNodePorts = old.type == .nodePort || old.type == .loadBalancer
        let hasNodePorts = service.type == .nodePort || service.type == .loadBalancer
        if hadNodePorts && !hasNodePorts, var ports = service.spec.ports {
            let oldNodePorts = Set((old.spec.ports ?? []).compactMap(\.nodePort))
            if ports.allSatisfy({ ($0.nodePort ?? 0) == 0 || oldNodePorts.contains($0.nodePort!) }) {
                for i in ports.indices { ports[i].nodePort = nil }
                service.spec.ports = ports
            }
        }
        let oldNeedsHC = old.type == .loadBalancer && old.spec.externalTrafficPolicy == .local
        let needsHC = service.type == .loadBalancer && service.spec.externalTrafficPolicy == .local
        if oldNeedsHC && !needsHC && service.spec.healthCheckNodePort == old.spec.healthCheckNodePort {
            service.spec.healthCheckNodePort = nil
        }
        if old.type == .loadBalancer && service.type != .loadBalancer {
            if let a = service.spec.allocateLoadBalancerNodePorts, a == old.spec.allocateLoadBalancerNodePorts {
                service.spec.allocateLoadBalancerNodePorts = nil
            }
            if service.spec.loadBalancerClass == old.spec.loadBalancerClass { service.spec.loadBalancerClass = nil }
        }
        if old.isExternallyAccessible && !service.isExternallyAccessible
            && service.spec.externalTrafficPolicy == old.spec.externalTrafficPolicy
        {
            service.spec.externalTrafficPolicy = nil
        }
        if service.type != .loadBalancer { service.status.loadBalancer = LoadBalancerStatus() }
    }
}
