extension Service {
    /// The default ClientIP affinity timeout: three hours.
    public static let defaultClientIPAffinitySeconds: Int32 = 10800
    /// The longest ClientIP affinity timeout: one day.
    public static let maxClientIPAffinitySeconds: Int32 = 86400

    /// True for Services reachable from outside the cluster: LoadBalancer, NodePort, and ClusterIP with
    /// `externalIPs` (upstream `ExternallyAccessible`).
    public var isExternallyAccessible: Bool {
        type == .loadBalancer || type == .nodePort || (type == .clusterIP && !(spec.externalIPs ?? []).isEmpty)
    }

    /// The versioned defaults of `core/v1` (`SetDefaults_Service`): what the API server fills in before
    /// anything else looks at a Service. ClusterIPs and IP families are the registry's business, not this.
    public mutating func applyDefaults() {
        if spec.sessionAffinity == nil || spec.sessionAffinity?.rawValue == "" { spec.sessionAffinity = ServiceAffinity.none }
        if spec.sessionAffinity == ServiceAffinity.none { spec.sessionAffinityConfig = nil }
        if spec.sessionAffinity == .clientIP && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == nil {
            spec.sessionAffinityConfig = SessionAffinityConfig(
                clientIP: ClientIPConfig(timeoutSeconds: Self.defaultClientIPAffinitySeconds))
        }
        if spec.type == nil || spec.type?.rawValue == "" { spec.type = .clusterIP }
        if var ports = spec.ports {
            for i in ports.indices {
                if ports[i].protocol == nil || ports[i].protocol?.rawValue == "" { ports[i].protocol = .tcp }
                if ports[i].targetPort == nil || ports[i].targetPort!.isZero { ports[i].targetPort = .int(ports[i].port) }
            }
            spec.ports = ports
        }
        if isExternallyAccessible && (spec.externalTrafficPolicy ?? "") == "" { spec.externalTrafficPolicy = .cluster }
        if spec.internalTrafficPolicy == nil && [.nodePort, .loadBalancer, .clusterIP].contains(type) {
            spec.internalTrafficPolicy = .cluster
        }
        if type == .loadBalancer && spec.allocateLoadBalancerNodePorts == nil { spec.allocateLoadBalancerNodePorts = true }
        if type == .loadBalancer, var ingress = status.loadBalancer?.ingress {
            for i in ingress.indices where !(ingress[i].ip ?? "").isEmpty && ingress[i].ipMode == nil { ingress[i].ipMode = "VIP" }
            status.loadBalancer?.ingress = ingress
        }
    }
}
