import KubeAPI

/// The creates, updates and deletes decided for one address type, before they are finalised.
struct SlicePlan {
    var creates: [EndpointSlice] = []
    var updates: [EndpointSlice] = []
    var deletes: [EndpointSlice] = []
    /// Existing slices left alone so far (hints may still move them to `updates`).
    var unchanged: [EndpointSlice] = []

    /// A Service always keeps one slice per address type: when every existing slice goes and none is created,
    /// an empty placeholder is created, or the existing placeholder is kept (by not deleting it).
    mutating func addPlaceholderIfNeeded(
        existingCount: Int, type: AddressType, service: Service, names: inout SliceNameGenerator
    ) {
        guard existingCount == deletes.count && creates.isEmpty else { return }
        let placeholder = EndpointSlice.new(for: service, type: type, ports: [], names: &names)
        if deletes.count == 1 && deletes[0].isPlaceholder(like: placeholder) {
            deletes = []
        } else {
            creates.append(placeholder)
        }
    }

    /// Topology hints, as upstream with the ServiceTrafficDistribution gate on: `PreferClose` puts each ready
    /// endpoint's own zone in its hints; otherwise hints are removed everywhere. (The `topology-mode: Auto`
    /// allocator is not implemented: such Services get no hints.)
    mutating func applyHints(service: Service) {
        let preferClose = service.spec.trafficDistribution == "PreferClose"
        if preferClose {
            let stale = unchanged.filter { slice in
                slice.endpoints.contains { (ep: Endpoint) -> Bool in
                    guard ep.conditions.ready == true else { return false }
                    if let zone = ep.zone { return ep.hints != EndpointHints(forZones: [ForZone(name: zone)]) }
                    return !(ep.hints?.forZones ?? []).isEmpty
                }
            }
            moveToUpdates(stale)
            for i in creates.indices { Self.setZoneHints(&creates[i]) }
            for i in updates.indices { Self.setZoneHints(&updates[i]) }
        } else {
            moveToUpdates(unchanged.filter { $0.endpoints.contains { $0.hints != nil } })
            for i in creates.indices { Self.removeHints(&creates[i]) }
            for i in updates.indices { Self.removeHints(&updates[i]) }
        }
    }

    private mutating func moveToUpdates(_ slices: [EndpointSlice]) {
        guard !slices.isEmpty else { return }
        let names = Set(slices.map(\.name))
        unchanged.removeAll { names.contains($0.name) }
        updates += slices
    }

    // Both write only what differs: a slice's endpoints are shared with the caller's copy, and writing an
    // unchanged value would still copy all of them.
    private static func setZoneHints(_ slice: inout EndpointSlice) {
        for i in slice.endpoints.indices where slice.endpoints[i].conditions.ready == true {
            let want = slice.endpoints[i].zone.map { EndpointHints(forZones: [ForZone(name: $0)]) }
            if slice.endpoints[i].hints != want { slice.endpoints[i].hints = want }
        }
    }

    private static func removeHints(_ slice: inout EndpointSlice) {
        for i in slice.endpoints.indices where slice.endpoints[i].hints != nil { slice.endpoints[i].hints = nil }
    }

    /// Pairs creates with deletes into updates (reusing names), drops creates while the Service is being deleted,
    /// and stamps the trigger time.
    mutating func finalize(service: Service, triggerTime: Time?) -> EndpointSliceChanges {
        var i = 0
        while !creates.isEmpty && i < deletes.count {
            let candidate = deletes[i]
            if candidate.addressType == creates[creates.count - 1].addressType && candidate.isOwned(by: service) {
                var replacement = creates.removeLast()
                replacement.metadata.name = candidate.metadata.name
                updates.append(replacement)
                deletes.remove(at: i)
            } else {
                i += 1
            }
        }
        var changes = EndpointSliceChanges()
        if service.metadata.deletionTimestamp == nil {
            changes.creates = creates.map { Self.stamp($0, triggerTime) }
        }
        changes.updates = updates.map { Self.stamp($0, triggerTime) }
        changes.deletes = deletes
        return changes
    }

    private static func stamp(_ slice: EndpointSlice, _ time: Time?) -> EndpointSlice {
        var copy = slice
        var annotations = copy.metadata.annotations ?? [:]
        annotations[EndpointsMetadata.lastChangeTriggerTime] = time?.rfc3339Nano
        copy.metadata.annotations = annotations
        return copy
    }
}

extension EndpointSlice {
    /// A new slice for `service`: named `<service>-xxxxx`, owned by the Service, labelled as upstream labels it.
    static func new(
        for service: Service, type: AddressType, ports: [EndpointPort], names: inout SliceNameGenerator
    ) -> EndpointSlice {
        let prefix = service.name + "-"
        var slice = EndpointSlice(
            metadata: ObjectMeta(
                name: names.name(prefix: prefix), generateName: prefix, namespace: service.metadata.namespace,
                ownerReferences: [
                    OwnerReference(
                        apiVersion: "v1", kind: "Service", name: service.name, uid: service.metadata.uid ?? "",
                        controller: true, blockOwnerDeletion: true)
                ]),
            addressType: type, endpoints: [], ports: ports)
        slice.metadata.labels = slice.reconciledLabels(for: service).labels
        return slice
    }

    /// True when one of the owner references is the Service itself (by UID).
    func isOwned(by service: Service) -> Bool {
        (metadata.ownerReferences ?? []).contains {
            $0.uid == service.metadata.uid && $0.kind == "Service" && $0.apiVersion == "v1"
        }
    }

    /// The labels this slice should carry, and whether its non-reserved labels differ from the Service's
    /// (only that difference triggers a write; reserved labels are rewritten when the slice is written anyway).
    func reconciledLabels(for service: Service) -> (labels: [String: String], changed: Bool) {
        let reserved: Set<String> = [
            EndpointSlice.serviceNameLabel, EndpointSlice.managedByLabel, EndpointsMetadata.headlessLabel,
        ]
        let fromService = service.labels.filter { !reserved.contains($0.key) }
        let own = labels.filter { !reserved.contains($0.key) }
        var result = fromService
        if service.isNotIPSet { result[EndpointsMetadata.headlessLabel] = "" }
        result[EndpointSlice.serviceNameLabel] = service.name
        result[EndpointSlice.managedByLabel] = EndpointSlice.controllerName
        return (result, fromService != own)
    }

    /// Upstream's placeholder test: same namespace, labels, owners and address type, and no ports or endpoints.
    func isPlaceholder(like placeholder: EndpointSlice) -> Bool {
        metadata.namespace == placeholder.metadata.namespace && labels == placeholder.labels
            && (metadata.ownerReferences ?? []) == (placeholder.metadata.ownerReferences ?? [])
            && addressType == placeholder.addressType && (ports ?? []).isEmpty && endpoints.isEmpty
    }
}
