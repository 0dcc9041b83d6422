import IPAM
import KubeAPI

extension ServiceRegistry {
    /// Allocates every ClusterIP the Service needs (one per family): the requested ones, or free ones.
    /// Returns what was taken; on failure nothing stays taken.
    mutating func allocateClusterIPs(_ service: inout Service, dryRun: Bool) throws(Status) -> [IPAddress] {
        guard service.type != .externalName, service.spec.clusterIPs?.first != "None" else { return [] }
        let families = service.spec.ipFamilies ?? []
        var ips = service.spec.clusterIPs ?? []
        while ips.count < families.count { ips.append("") }
        var taken: [IPAddress] = []
        do throws(Status) {
            for (i, family) in families.enumerated() where i < ips.count {
                let ip = try allocate(ips[i], family: family, service: service, dryRun: dryRun)
                if !dryRun { taken.append(ip) }
                ips[i] = ip.description
            }
        } catch {
            taken.forEach { allocator.release($0) }
            throw error
        }
        service.spec.clusterIPs = ips
        service.spec.clusterIP = ips.first
        return taken
    }

    /// One address of `family`: `requested` if given, else a free one. Errors carry upstream's texts.
    private mutating func allocate(_ requested: String, family: IPFamily, service: Service, dryRun: Bool) throws(Status) -> IPAddress {
        if requested.isEmpty {
            if dryRun {
                guard let range = allocator.range(for: family) else {
                    throw Status.internalError("failed to allocate a serviceIP: \(ClusterIPAllocationError.familyNotConfigured(family))")
                }
                return range.cidr.network
            }
            do {
                return try allocator.allocateNext(family: family)
            } catch {
                throw Status.internalError("failed to allocate a serviceIP: \(error)")
            }
        }
        guard let ip = IPAddress(requested) else {
            throw Status.internalError("failed to parse service IP \(BadValue.goQuote(requested))")
        }
        do {
            if dryRun {
                if allocator.range(for: ip.family)?.isAllocatable(ip) != true {
                    let range = allocator.range(for: ip.family)?.cidr ?? CIDR(address: ip, prefixLength: ip.family.bitWidth)
                    throw ClusterIPAllocationError.notInRange(ip, validRange: range)
                }
            } else {
                try allocator.allocate(ip)
            }
        } catch {
            throw Status.invalid(
                kind: Service.kind, name: service.name,
                errors: [.invalid(FieldPath("spec").child("clusterIPs"), .strings(service.spec.clusterIPs), "failed to allocate IP \(ip): \(error)")])
        }
        return ip
    }

    /// ClusterIP moves of an update: from ExternalName, allocate everything; to ExternalName, release
    /// everything; single → dual stack, allocate the secondary; dual → single, release the secondary.
    mutating func updateClusterIPs(_ service: inout Service, old: Service, dryRun: Bool) throws(Status) -> (allocated: [IPAddress], toRelease: [IPAddress]) {
        if old.type == .externalName && service.type != .externalName {
            return (try allocateClusterIPs(&service, dryRun: dryRun), [])
        }
        if old.isHeadless { return ([], []) }
        if service.type == .externalName {
            return ([], old.type == .externalName ? [] : old.clusterIPAddresses)
        }
        let oldFamilies = old.spec.ipFamilies ?? []
        let newFamilies = service.spec.ipFamilies ?? []
        if oldFamilies.count == 1 && newFamilies.count == 2 {
            var ips = service.spec.clusterIPs ?? []
            let requested = ips.count > 1 ? ips[1] : ""
            let ip = try allocate(requested, family: newFamilies[1], service: service, dryRun: dryRun)
            if ips.count > 1 { ips[1] = ip.description } else { ips.append(ip.description) }
            service.spec.clusterIPs = ips
            return (dryRun ? [] : [ip], [])
        }
        if oldFamilies.count == 2 && newFamilies.count == 1 {
            let oldIPs = old.clusterIPAddresses
            return ([], oldIPs.count > 1 ? [oldIPs[1]] : [])
        }
        return ([], [])
    }
}
