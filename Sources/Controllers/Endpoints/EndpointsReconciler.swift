import IPAM
import KubeAPI

/// What the legacy Endpoints controller should write for a Service.
public enum EndpointsChange: Sendable, Hashable {
    /// Nothing to write.
    case none
    case create(Endpoints)
    case update(Endpoints)
}

/// The legacy Endpoints controller's decision for one Service, as a pure function (upstream
/// `endpoints_controller.go` 1.32): one `Endpoints` object named like the Service, ready pods in `addresses`,
/// the others in `notReadyAddresses`, subsets packed by identical port sets, cut to 1000 addresses.
public struct EndpointsReconciler: Sendable {
    /// Addresses (ready and not ready) an Endpoints object may hold before it is truncated.
    public static let maxCapacity = 1000

    public init() {}

    /// Computes the write for `service`, given the pods of its namespace and the Endpoints object that exists.
    ///
    /// One difference from upstream: an over-capacity object whose truncated content is already stored is not
    /// rewritten on every sync (upstream sends an identical update each time).
    public func reconcile(service: Service, pods: [Pod], existing: Endpoints?, triggerTime: Time? = nil) -> EndpointsChange {
        guard service.type != .externalName, service.selector != nil else { return .none }
        let includeNotReady = service.publishesNotReadyAddresses
        var raw: [(ports: [EndpointPort], address: EndpointAddress, ready: Bool)] = []
        for pod in pods where service.selects(pod) {
            guard PodEndpointRules.shouldBeInEndpoints(pod, includeTerminating: includeNotReady),
                let address = address(of: pod, for: service)
            else { continue }
            let ready = includeNotReady || PodEndpointRules.isReady(pod)
            if service.ports.isEmpty {
                if service.isHeadless { raw.append(([], address, ready)) }
                continue
            }
            for sp in service.ports {
                guard let number = PodEndpointRules.findPort(pod, sp, includeSidecars: true) else { continue }
                let name = (sp.name ?? "").isEmpty ? nil : sp.name
                raw.append(([EndpointPort(name: name, port: number, protocol: sp.protocol, appProtocol: sp.appProtocol)], address, ready))
            }
        }
        var subsets = Self.repack(raw)
        let truncated = Self.truncate(&subsets)

        var result = existing ?? Endpoints(metadata: ObjectMeta(name: service.name, namespace: service.metadata.namespace))
        result.subsets = subsets
        var labels = service.labels
        if service.isNotIPSet { labels[EndpointsMetadata.headlessLabel] = "" } else { labels[EndpointsMetadata.headlessLabel] = nil }
        result.metadata.labels = labels.isEmpty ? nil : labels
        var annotations = result.metadata.annotations ?? [:]
        annotations[EndpointsMetadata.overCapacity] = truncated ? "truncated" : nil

        guard let existing else {
            annotations[EndpointsMetadata.lastChangeTriggerTime] = triggerTime?.rfc3339Nano
            result.metadata.annotations = annotations.isEmpty ? nil : annotations
            return .create(result)
        }
        let sameSubsets = Self.semanticallyEqual(existing.subsets ?? [], subsets)
        var existingLabels = existing.labels
        existingLabels[EndpointsMetadata.headlessLabel] = nil
        let capacityRight = existing.metadata.annotations?[EndpointsMetadata.overCapacity] == (truncated ? "truncated" : nil)
        if sameSubsets && existingLabels == service.labels && capacityRight { return .none }
        annotations[EndpointsMetadata.lastChangeTriggerTime] = triggerTime?.rfc3339Nano
        result.metadata.annotations = annotations.isEmpty ? nil : annotations
        return .update(result)
    }

    /// The pod's address in the Service's primary family: `ipFamilies[0]`, else the ClusterIP's family, else the
    /// family of the pod's own IP (headless).
    func address(of pod: Pod, for service: Service) -> EndpointAddress? {
        let wantIPv6: Bool
        if let first = service.spec.ipFamilies?.first {
            wantIPv6 = first == .ipv6
        } else if let ip = service.spec.clusterIP, !ip.isEmpty, ip != "None" {
            wantIPv6 = PodEndpointRules.isIPv6(ip)
        } else {
            wantIPv6 = PodEndpointRules.isIPv6(pod.status.podIP ?? "")
        }
        guard let ip = (pod.status.podIPs ?? []).first(where: { PodEndpointRules.isIPv6($0.ip) == wantIPv6 })?.ip else {
            return nil
        }
        return EndpointAddress(
            ip: ip, hostname: PodEndpointRules.shouldSetHostname(pod, service) ? pod.spec.hostname : nil,
            nodeName: pod.spec.nodeName ?? "",
            targetRef: ObjectReference(kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid))
    }

    /// Upstream `RepackSubsets`: one subset per distinct set of (address, readiness), holding every port with
    /// that set. An address that is not ready for one port is not ready for it, whatever else says.
    static func repack(_ raw: [(ports: [EndpointPort], address: EndpointAddress, ready: Bool)]) -> [EndpointSubset] {
        struct AddressKey: Hashable { var ip: String; var uid: String }
        let sentinel = EndpointPort(port: -1)
        var canonical: [AddressKey: EndpointAddress] = [:]
        var portOrder: [EndpointPort] = []
        var portToAddresses: [EndpointPort: [AddressKey: Bool]] = [:]
        for entry in raw {
            let key = AddressKey(ip: entry.address.ip, uid: entry.address.targetRef?.uid ?? "")
            if canonical[key] == nil { canonical[key] = entry.address }
            for port in entry.ports.isEmpty ? [sentinel] : entry.ports {
                if portToAddresses[port] == nil {
                    portOrder.append(port)
                    portToAddresses[port] = [:]
                }
                let previous = portToAddresses[port]![key]
                portToAddresses[port]![key] = previous == false ? false : entry.ready
            }
        }
        var groups: [[AddressKey: Bool]: [EndpointPort]] = [:]
        var groupOrder: [[AddressKey: Bool]] = []
        for port in portOrder {
            let set = portToAddresses[port]!
            if groups[set] == nil { groupOrder.append(set) }
            groups[set, default: []].append(port)
        }
        var subsets: [EndpointSubset] = []
        for set in groupOrder {
            let ready = set.filter { $0.value }.keys.map { canonical[$0]! }.sorted(by: addressOrder)
            let notReady = set.filter { !$0.value }.keys.map { canonical[$0]! }.sorted(by: addressOrder)
            let ports = groups[set]!.filter { ($0.port ?? 0) > 0 }.sorted(by: EndpointPortKey.portOrder)
            subsets.append(EndpointSubset(
                addresses: ready.isEmpty ? nil : ready, notReadyAddresses: notReady.isEmpty ? nil : notReady,
                ports: ports.isEmpty ? nil : ports))
        }
        return subsets.sorted { a, b in
            let pa = a.ports?.first, pb = b.ports?.first
            if pa != pb {
                guard let pa else { return true }
                guard let pb else { return false }
                return EndpointPortKey.portOrder(pa, pb)
            }
            let ia = (a.addresses ?? a.notReadyAddresses ?? []).first?.ip ?? ""
            let ib = (b.addresses ?? b.notReadyAddresses ?? []).first?.ip ?? ""
            return ia.utf8.lexicographicallyPrecedes(ib.utf8)
        }
    }

    /// By IP as bytes (so 10.0.0.10 < 10.0.0.9), then addresses without a target first, then by target UID.
    static func addressOrder(_ a: EndpointAddress, _ b: EndpointAddress) -> Bool {
        if a.ip != b.ip { return a.ip.utf8.lexicographicallyPrecedes(b.ip.utf8) }
        switch (a.targetRef, b.targetRef) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return (x.uid ?? "").utf8.lexicographicallyPrecedes((y.uid ?? "").utf8)
        }
    }

    /// Upstream `truncateEndpoints`: above 1000 addresses, keep ready ones first, cutting each subset in proportion
    /// to its share. Returns whether anything was cut.
    static func truncate(_ subsets: inout [EndpointSubset]) -> Bool {
        let totalReady = subsets.reduce(0) { $0 + ($1.addresses?.count ?? 0) }
        let totalNotReady = subsets.reduce(0) { $0 + ($1.notReadyAddresses?.count ?? 0) }
        guard totalReady + totalNotReady > maxCapacity else { return false }
        let readyMode = totalReady > maxCapacity
        let max = readyMode ? maxCapacity : maxCapacity - totalReady
        let total = readyMode ? totalReady : totalNotReady
        var canBeAdded = max
        for i in subsets.indices {
            let list = (readyMode ? subsets[i].addresses : subsets[i].notReadyAddresses) ?? []
            var toBeAdded = Int((Double(list.count) / Double(total) * Double(max)).rounded(.up))
            toBeAdded = Swift.min(toBeAdded, canBeAdded)
            let kept = Array(list.prefix(toBeAdded))
            if readyMode {
                subsets[i].addresses = kept.isEmpty ? nil : kept
                subsets[i].notReadyAddresses = nil
            } else {
                subsets[i].notReadyAddresses = kept.isEmpty ? nil : kept
            }
            canBeAdded -= kept.count
        }
        return true
    }

    /// Equal ignoring target resourceVersions and empty-versus-absent lists.
    static func semanticallyEqual(_ a: [EndpointSubset], _ b: [EndpointSubset]) -> Bool {
        func normal(_ s: [EndpointSubset]) -> [EndpointSubset] {
            s.map { subset in
                func clean(_ list: [EndpointAddress]?) -> [EndpointAddress]? {
                    guard let list, !list.isEmpty else { return nil }
                    return list.map { var x = $0; x.targetRef?.resourceVersion = nil; return x }
                }
                return EndpointSubset(
                    addresses: clean(subset.addresses), notReadyAddresses: clean(subset.notReadyAddresses),
                    ports: (subset.ports ?? []).isEmpty ? nil : subset.ports)
            }
        }
        return normal(a) == normal(b)
    }
}
