import IPAM
import KubeAPI

extension ServiceRegistry {
    /// Upstream `initIPFamilyFields`: settles `ipFamilyPolicy` and `ipFamilies` from what the user asked, the
    /// ClusterIPs given and the families this cluster has. Throws 422 for combinations the cluster cannot serve.
    func initIPFamilyFields(_ service: inout Service, old: Service?) throws(Status) {
        guard service.type != .externalName else { return }
        if let old, Self.isUnchangedPreferDualStack(service, old: old) { return }

        let headlessWithoutSelector = service.spec.clusterIP == "None" && service.selector == nil
        if service.spec.ipFamilyPolicy == nil {
            if let oldPolicy = old?.spec.ipFamilyPolicy {
                service.spec.ipFamilyPolicy = oldPolicy
            } else {
                service.spec.ipFamilyPolicy = headlessWithoutSelector ? .requireDualStack : .singleStack
            }
        }

        let relatedErrors = service.validateClusterIPsRelatedFields()
        if !relatedErrors.isEmpty { throw Status.invalid(kind: Service.kind, name: service.name, errors: relatedErrors) }

        let spec = FieldPath("spec")
        var errors: [FieldError] = []
        let policy = service.spec.ipFamilyPolicy!
        if let old {
            if policy == .singleStack {
                if let ips = service.spec.clusterIPs, ips == old.spec.clusterIPs, ips.count > 1 {
                    service.spec.clusterIPs = Array(ips.prefix(1))
                }
                if let families = service.spec.ipFamilies, families == old.spec.ipFamilies, families.count > 1 {
                    service.spec.ipFamilies = Array(families.prefix(1))
                }
            } else {
                let ips = service.spec.clusterIPs ?? []
                if !ips.isEmpty && ips.count < (old.spec.clusterIPs ?? []).count {
                    errors.append(.invalid(spec.child("ipFamilyPolicy"), .string(policy.rawValue), "must be 'SingleStack' to release the secondary cluster IP"))
                }
                let families = service.spec.ipFamilies ?? []
                if !families.isEmpty && families.count < (old.spec.ipFamilies ?? []).count {
                    errors.append(.invalid(spec.child("ipFamilyPolicy"), .string(policy.rawValue), "must be 'SingleStack' to release the secondary IP family"))
                }
            }
        }
        if policy == .singleStack {
            if (service.spec.clusterIPs ?? []).count == 2 {
                errors.append(.invalid(spec.child("ipFamilyPolicy"), .string(policy.rawValue), "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
            }
            if (service.spec.ipFamilies ?? []).count == 2 {
                errors.append(.invalid(spec.child("ipFamilyPolicy"), .string(policy.rawValue), "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
            }
        }

        var families = service.spec.ipFamilies ?? []
        for (i, ip) in (service.spec.clusterIPs ?? []).enumerated() {
            if ip == "None" { break }
            guard i >= families.count, let address = IPAddress(ip) else { continue }
            if allocator.range(for: address.family) == nil {
                errors.append(.invalid(spec.child("clusterIPs").index(i), .strings(service.spec.clusterIPs), "\(address.family) is not configured on this cluster"))
            } else {
                families.append(address.family)
            }
        }
        service.spec.ipFamilies = families.isEmpty ? service.spec.ipFamilies : families
        if !errors.isEmpty { throw Status.invalid(kind: Service.kind, name: service.name, errors: errors) }

        let primary = allocator.primaryFamily
        if headlessWithoutSelector {
            // A headless Service without a selector takes whatever endpoints users give it, of either family.
            if families.isEmpty { families = [primary] }
            if families.count < 2 && policy != .singleStack { families.append(families[0].other) }
            service.spec.ipFamilies = families
            return
        }

        if policy == .requireDualStack && !allocator.isDualStack {
            errors.append(.invalid(spec.child("ipFamilyPolicy"), .string(policy.rawValue), "this cluster is not configured for dual-stack services"))
        }
        for (i, family) in families.enumerated() where allocator.range(for: family) == nil {
            errors.append(.invalid(spec.child("ipFamilies").index(i), .string(family.rawValue), "not configured on this cluster"))
        }
        if !errors.isEmpty { throw Status.invalid(kind: Service.kind, name: service.name, errors: errors) }

        if families.isEmpty { families = [primary] }
        if policy != .singleStack && families.count == 1 && allocator.isDualStack {
            families.append(families[0].other)
        }
        service.spec.ipFamilies = families
    }

    /// A PreferDualStack Service whose families and IPs did not change keeps them, even if the cluster gained or
    /// lost a family: it is not upgraded or downgraded behind the user's back.
    static func isUnchangedPreferDualStack(_ service: Service, old: Service) -> Bool {
        guard let policy = service.spec.ipFamilyPolicy, service.type == old.type,
            [.clusterIP, .nodePort, .loadBalancer].contains(service.type)
        else { return false }
        guard policy == .preferDualStack, old.spec.ipFamilyPolicy == nil || old.spec.ipFamilyPolicy == .preferDualStack else {
            return false
        }
        return (service.spec.clusterIPs ?? []) == (old.spec.clusterIPs ?? [])
            && (service.spec.ipFamilies ?? []) == (old.spec.ipFamilies ?? [])
    }
}
