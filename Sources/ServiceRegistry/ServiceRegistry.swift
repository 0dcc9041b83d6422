import IPAM
import KubeAPI

/// What kube-apiserver's Service registry does around storage, as a value with no I/O: defaults, IP family
/// selection, ClusterIP allocation and release, the update rules (copy-forward of allocated IPs, immutability,
/// ExternalName transitions), then validation.
///
/// The order is upstream's, and it is visible to users: IP families and allocation are settled before ordinary
/// validation runs, so a request with a taken ClusterIP and a bad port reports only the ClusterIP.
public struct ServiceRegistry: Sendable {
    /// Mutated only through this type, so that every allocation goes through admission.
    public internal(set) var allocator: ClusterIPAllocator

    public init(allocator: ClusterIPAllocator) {
        self.allocator = allocator
    }

    /// Admits a new Service: returns it defaulted, with IP families and ClusterIPs set.
    /// With `dryRun`, nothing is allocated and a dynamic ClusterIP reads as the range's network address.
    public mutating func create(_ input: Service, dryRun: Bool = false) throws(Status) -> ServiceChange {
        var service = input
        service.applyDefaults()
        Self.normalizeClusterIPsOnCreate(&service)
        try initIPFamilyFields(&service, old: nil)
        let allocated = try allocateClusterIPs(&service, dryRun: dryRun)
        service.status = ServiceStatus(loadBalancer: LoadBalancerStatus())
        let errors = service.validate()
        if !errors.isEmpty {
            allocated.forEach { allocator.release($0) }
            throw Status.invalid(kind: Service.kind, name: service.name, errors: errors)
        }
        return ServiceChange(service: service, allocated: allocated)
    }

    /// Admits a replacement of `old` by `input`. Omitted ClusterIPs are carried over from `old`, so re-applying
    /// a manifest that never named one keeps the allocated address.
    public mutating func update(_ input: Service, from storedOld: Service, dryRun: Bool = false) throws(Status) -> ServiceChange {
        var service = input
        service.applyDefaults()
        let old = defaultedOnRead(storedOld)
        Self.patchAllocatedValues(&service, old: old)
        Self.normalizeClusterIPsOnUpdate(&service, old: old)
        try initIPFamilyFields(&service, old: old)
        let (allocated, toRelease) = try updateClusterIPs(&service, old: old, dryRun: dryRun)
        service.status = old.status
        Self.dropTypeDependentFields(&service, old: old)
        let errors = service.validateUpdate(from: old)
        if !errors.isEmpty {
            allocated.forEach { allocator.release($0) }
            throw Status.invalid(kind: Service.kind, name: service.name, errors: errors)
        }
        return ServiceChange(service: service, allocated: allocated, toRelease: dryRun ? [] : toRelease)
    }

    /// The addresses a deleted Service frees (on `commit`).
    public func delete(_ service: Service) -> ServiceChange {
        guard service.type != .externalName, !service.isHeadless else { return ServiceChange(service: service) }
        return ServiceChange(service: service, toRelease: service.clusterIPAddresses)
    }

    /// The write was stored: free what it gave up.
    public mutating func commit(_ change: ServiceChange) {
        change.toRelease.forEach { allocator.release($0) }
    }

    /// The write was not stored: give back what it took.
    public mutating func revert(_ change: ServiceChange) {
        change.allocated.forEach { allocator.release($0) }
    }

    /// Rebuilds the allocation bitmap from stored Services (at start-up, and whenever the store is reloaded).
    @discardableResult
    public mutating func repair(from services: [Service]) -> ClusterIPRepairReport {
        allocator.repair(from: services.filter { $0.type != .externalName }.map {
            ClusterIPClaim(owner: "\($0.namespace)/\($0.name)", clusterIPs: $0.spec.clusterIPs ?? $0.spec.clusterIP.map { [$0] } ?? [])
        })
    }

    /// The built-in `default/kubernetes` Service: selector-less, port `https` 443, on the first ClusterIP.
    public func kubernetesService(targetPort: Int32) -> Service {
        Service(
            metadata: ObjectMeta(
                name: "kubernetes", namespace: "default",
                labels: ["component": "apiserver", "provider": "kubernetes"]),
            spec: ServiceSpec(
                type: .clusterIP,
                ports: [ServicePort(name: "https", protocol: .tcp, port: 443, targetPort: .int(targetPort))],
                clusterIP: allocator.kubernetesServiceIP.description,
                clusterIPs: [allocator.kubernetesServiceIP.description],
                ipFamilies: [allocator.primaryFamily], ipFamilyPolicy: .singleStack,
                sessionAffinity: ServiceAffinity.none, internalTrafficPolicy: .cluster))
    }
}
