import KubeAPI

/// The EndpointSlice controller's decision for one Service, as a pure function of the Service, the pods in its
/// namespace and the slices that exist: which slices to create, update and delete.
///
/// This follows kube-controller-manager 1.32 step for step (`reconciler.go`): per address type, pods are grouped
/// by their resolved port list; existing slices keep the endpoints still wanted (updated in place), endpoints no
/// longer wanted are dropped, new ones first top up slices already being updated, then go to the slice that ends
/// up closest to full, then to new slices; a Service with nothing to publish keeps one empty placeholder slice;
/// creates and deletes of the same address type are paired into updates so names are reused. Nothing is
/// rebalanced, so an unchanged input gives no operations and one pod's change touches one slice.
///
/// Where upstream is random (map order), this is deterministic: address types IPv4 then IPv6, port lists in
/// `EndpointPortKey` order, new endpoints in pod order, ties to the earlier slice in input order.
public struct EndpointSliceReconciler: Sendable {
    /// Upstream's `--max-endpoints-per-slice`, 100 by default (1 to 1000).
    public var maxEndpointsPerSlice: Int

    public init(maxEndpointsPerSlice: Int = 100) {
        precondition(maxEndpointsPerSlice >= 1, "maxEndpointsPerSlice must be at least 1")
        self.maxEndpointsPerSlice = maxEndpointsPerSlice
    }

    /// Computes the writes for `service`.
    ///
    /// - Parameters:
    ///   - pods: pods of the Service's namespace (the selector is applied here; other pods are ignored).
    ///   - existingSlices: slices labelled with the Service's name and managed by this controller.
    ///   - nodes: which nodes exist; a pod on an unknown node is skipped unless `publishNotReadyAddresses`.
    ///   - triggerTime: written to `endpoints.kubernetes.io/last-change-trigger-time` on every slice written
    ///     (removed from them when nil).
    public func reconcile(
        service: Service, pods: [Pod], existingSlices: [EndpointSlice], nodes: NodeLookup = .anyNode,
        triggerTime: Time? = nil, names: inout SliceNameGenerator
    ) -> EndpointSliceChanges {
        var changes = EndpointSliceChanges()
        guard service.type != .externalName, service.selector != nil else { return changes }
        let wanted = service.endpointAddressTypes
        let current = existingSlices.filter {
            $0.metadata.deletionTimestamp == nil && $0.labels[EndpointSlice.serviceNameLabel] == service.name
                && $0.labels[EndpointSlice.managedByLabel] == EndpointSlice.controllerName
        }
        // One pass over the pods for every address type: at ten thousand pods, reading each pod's memory once
        // matters more than anything computed from it.
        let builder = EndpointBuilder(service: service, nodes: nodes)
        var collected = wanted.map { _ in DesiredEndpoints(capacity: pods.count) }
        var portCache = EndpointBuilder.PortCache()
        for i in pods.indices where pods[i].isSelected(by: service) {
            for t in wanted.indices {
                guard let d = pods[i].desiredEndpoint(builder, addressType: wanted[t], cache: &portCache) else { continue }
                collected[t].add(d)
            }
        }
        for t in wanted.indices {
            changes.append(
                reconcile(wanted[t], service: service, desired: &collected[t],
                          existing: current.filter { $0.addressType == wanted[t] }, triggerTime: triggerTime,
                          names: &names))
        }
        changes.deletes += current.filter { !wanted.contains($0.addressType) }
        changes.skippedPods = Array(Set(changes.skippedPods)).sorted()
        return changes
    }

    private func reconcile(
        _ type: AddressType, service: Service, desired collected: inout DesiredEndpoints, existing: [EndpointSlice],
        triggerTime: Time?, names: inout SliceNameGenerator
    ) -> EndpointSliceChanges {
        var plan = SlicePlan()
        var existingByKey: [EndpointPortKey: [EndpointSlice]] = [:]
        var existingKeys: [EndpointPortKey] = []
        for slice in existing {
            guard slice.isOwned(by: service) else {
                plan.deletes.append(slice)
                continue
            }
            let key = EndpointPortKey(slice.ports ?? [])
            if existingByKey[key] == nil { existingKeys.append(key) }
            existingByKey[key, default: []].append(slice)
        }

        var desired = collected.finish()
        let wantedKeys = Set(desired.keys)
        for key in desired.keys.sorted() {
            // Taken out of the dictionary so that consuming it does not copy it.
            var set = desired.removeValue(forKey: key)!
            reconcilePortMapping(
                key: key, existing: existingByKey[key] ?? [], desired: &set, type: type, service: service,
                plan: &plan, names: &names)
        }
        for key in existingKeys where !wantedKeys.contains(key) {
            plan.deletes += existingByKey[key]!
        }
        plan.addPlaceholderIfNeeded(existingCount: existing.count, type: type, service: service, names: &names)
        plan.applyHints(service: service)
        var changes = plan.finalize(service: service, triggerTime: triggerTime)
        changes.skippedPods = collected.skipped
        return changes
    }

    /// Upstream `reconcileByPortMapping`: existing slices of one port list against the endpoints wanted for it.
    private func reconcilePortMapping(
        key: EndpointPortKey, existing: [EndpointSlice], desired: inout DesiredSet, type: AddressType,
        service: Service, plan: inout SlicePlan, names: inout SliceNameGenerator
    ) {
        let max = maxEndpointsPerSlice
        var toUpdate: [EndpointSlice] = []
        var unchanged: [EndpointSlice] = []

        // 1. Keep what is still wanted, in place, in its wanted form.
        for slice in existing {
            var kept: [Endpoint] = []
            kept.reserveCapacity(slice.endpoints.count)
            var changed = false
            for i in slice.endpoints.indices {
                guard let want = desired.remove(EndpointIdentity(slice.endpoints[i])) else { continue }
                if !want.equalBeyondIdentity(slice.endpoints[i]) { changed = true }
                kept.append(want)
            }
            let (labels, labelsChanged) = slice.reconciledLabels(for: service)
            if changed || kept.count != slice.endpoints.count {
                if kept.isEmpty {
                    plan.deletes.append(slice)
                } else {
                    var copy = slice
                    copy.endpoints = kept
                    copy.metadata.labels = labels
                    toUpdate.append(copy)
                }
            } else if labelsChanged {
                var copy = slice
                copy.metadata.labels = labels
                toUpdate.append(copy)
            } else {
                unchanged.append(slice)
            }
        }

        // 2. Top up slices that are being written anyway, fullest first.
        if !desired.isEmpty && !toUpdate.isEmpty {
            let order = toUpdate.indices.sorted { toUpdate[$0].endpoints.count > toUpdate[$1].endpoints.count }
            for i in order {
                while toUpdate[i].endpoints.count < max, let endpoint = desired.popFirst() {
                    toUpdate[i].endpoints.append(endpoint)
                }
                if desired.isEmpty { break }
            }
        }

        // 3. The rest: into the unchanged slice that ends closest to full, else into new slices.
        while !desired.isEmpty {
            var chosen: Int?
            if desired.count < max && !unchanged.isEmpty {
                var closest = max
                for (i, slice) in unchanged.enumerated() {
                    let diff = max - (desired.count + slice.endpoints.count)
                    if diff >= 0 && diff < closest {
                        closest = diff
                        chosen = i
                        if diff == 0 { break }
                    }
                }
            }
            var slice: EndpointSlice
            if let i = chosen {
                slice = unchanged.remove(at: i)
            } else {
                slice = EndpointSlice.new(for: service, type: type, ports: key.ports, names: &names)
                slice.endpoints.reserveCapacity(Swift.min(max, desired.count))
            }
            while slice.endpoints.count < max, let endpoint = desired.popFirst() {
                slice.endpoints.append(endpoint)
            }
            if chosen != nil { toUpdate.append(slice) } else { plan.creates.append(slice) }
        }

        plan.updates += toUpdate
        plan.unchanged += unchanged
    }
}
