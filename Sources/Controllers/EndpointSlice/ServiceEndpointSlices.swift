import KubeAPI

/// The EndpointSlice controller's view of one Service, kept between syncs so that a pod's change costs
/// microseconds instead of a pass over every pod.
///
/// `start` runs the full `EndpointSliceReconciler` once; afterwards `podChanged` and `podDeleted` produce exactly
/// the writes the full reconcile would produce for the new inputs (the tests check this pod by pod), but touch
/// only the changed pod's endpoint and the slices it leaves or joins. Anything else that changes (the Service,
/// nodes, slices edited by someone else) calls for `start` again.
public struct ServiceEndpointSlices: Sendable {
    public private(set) var service: Service
    let reconciler: EndpointSliceReconciler
    let nodes: NodeLookup
    var names: SliceNameGenerator
    private let builder: EndpointBuilder

    /// Slices by name as they are stored once the returned changes are applied.
    private var slices: [String: EndpointSlice] = [:]
    /// Slice names in the order the full reconcile would see them (ties go to the earlier one).
    private var order: [String] = []
    /// Where each endpoint is: per address type, identity to slice name.
    private var location: [AddressType: [EndpointIdentity: String]] = [:]
    /// Per pod (`namespace/name`), its desired endpoint per address type.
    private var desiredByPod: [String: [AddressType: DesiredEndpoint]] = [:]
    /// Per address type and port list, how many pods want it (a list nobody wants loses its slices).
    private var keyUsers: [AddressType: [EndpointPortKey: Int]] = [:]

    /// Reconciles `service` in full and returns the state as it is once `changes` are written.
    public static func start(
        service: Service, pods: [Pod], existingSlices: [EndpointSlice], nodes: NodeLookup = .anyNode,
        triggerTime: Time? = nil, reconciler: EndpointSliceReconciler = EndpointSliceReconciler(),
        names: SliceNameGenerator = SliceNameGenerator()
    ) -> (state: ServiceEndpointSlices, changes: EndpointSliceChanges) {
        var names = names
        let changes = reconciler.reconcile(
            service: service, pods: pods, existingSlices: existingSlices, nodes: nodes, triggerTime: triggerTime,
            names: &names)
        var state = ServiceEndpointSlices(service: service, reconciler: reconciler, nodes: nodes, names: names)
        let deleted = Set(changes.deletes.map(\.name))
        let updated = Dictionary(changes.updates.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        let own = existingSlices.filter {
            $0.metadata.deletionTimestamp == nil && $0.labels[EndpointSlice.serviceNameLabel] == service.name
                && $0.labels[EndpointSlice.managedByLabel] == EndpointSlice.controllerName
        }
        for slice in own where !deleted.contains(slice.name) { state.store(updated[slice.name] ?? slice) }
        for slice in changes.updates where state.slices[slice.name] == nil { state.store(slice) }
        for slice in changes.creates { state.store(slice) }
        for pod in pods where service.selects(pod) {
            let desired = state.desired(for: pod)
            state.desiredByPod[Self.key(pod)] = desired
            for (type, d) in desired { state.keyUsers[type, default: [:]][d.key, default: 0] += 1 }
        }
        return (state, changes)
    }

    private init(service: Service, reconciler: EndpointSliceReconciler, nodes: NodeLookup, names: SliceNameGenerator) {
        self.service = service
        self.reconciler = reconciler
        self.nodes = nodes
        self.names = names
        self.builder = EndpointBuilder(service: service, nodes: nodes)
    }

    /// The slices as they stand, in order.
    public var currentSlices: [EndpointSlice] { order.compactMap { slices[$0] } }

    /// A pod was added or changed (its labels, readiness, IPs, ports, deletion).
    public mutating func podChanged(_ pod: Pod, triggerTime: Time? = nil) -> EndpointSliceChanges {
        guard service.type != .externalName, service.selector != nil else { return EndpointSliceChanges() }
        return apply(podKey: Self.key(pod), desired: service.selects(pod) ? desired(for: pod) : [:], triggerTime: triggerTime)
    }

    /// A pod is gone.
    public mutating func podDeleted(namespace: String, name: String, triggerTime: Time? = nil) -> EndpointSliceChanges {
        guard service.type != .externalName, service.selector != nil else { return EndpointSliceChanges() }
        return apply(podKey: "\(namespace)/\(name)", desired: [:], triggerTime: triggerTime)
    }

    private static func key(_ pod: Pod) -> String { "\(pod.namespace)/\(pod.name)" }

    private func desired(for pod: Pod) -> [AddressType: DesiredEndpoint] {
        var out: [AddressType: DesiredEndpoint] = [:]
        for type in service.endpointAddressTypes {
            if let d = builder.desired(pod, addressType: type) { out[type] = d }
        }
        return out
    }

    private mutating func apply(podKey: String, desired new: [AddressType: DesiredEndpoint], triggerTime: Time?) -> EndpointSliceChanges {
        let old = desiredByPod[podKey] ?? [:]
        desiredByPod[podKey] = new.isEmpty ? nil : new
        var changes = EndpointSliceChanges()
        for type in service.endpointAddressTypes {
            if let problem = new[type]?.problem { changes.skippedPods.append(problem) }
            changes.append(change(type, from: old[type], to: new[type], triggerTime: triggerTime))
        }
        changes.skippedPods = Array(Set(changes.skippedPods)).sorted()
        return changes
    }

    /// One pod's move within one address type, following the full reconcile's steps for that single endpoint.
    ///
    /// Slices are edited in place in `slices` (copying one would copy its hundred endpoints), and `location` is
    /// kept up to date endpoint by endpoint.
    private mutating func change(
        _ type: AddressType, from old: DesiredEndpoint?, to new: DesiredEndpoint?, triggerTime: Time?
    ) -> EndpointSliceChanges {
        if let old { keyUsers[type]![old.key]! -= 1 }
        if let new { keyUsers[type, default: [:]][new.key, default: 0] += 1 }
        let typeSlices = order.filter { slices[$0]!.addressType == type }
        var touched: [String] = []
        var deleted: [String] = []
        let max = reconciler.maxEndpointsPerSlice
        var toPlace = new?.endpoint

        // 1. The old endpoint leaves its slice, or is replaced in place when it is the same endpoint.
        if let oldEndpoint = old?.endpoint, let name = location[type]?[EndpointIdentity(oldEndpoint)] {
            let id = EndpointIdentity(oldEndpoint)
            let index = slices[name]!.endpoints.firstIndex { EndpointIdentity($0) == id }!
            if let newEndpoint = toPlace, new!.key == old!.key, EndpointIdentity(newEndpoint) == id {
                if !newEndpoint.equalBeyondIdentity(slices[name]!.endpoints[index]) {
                    slices[name]!.endpoints[index] = newEndpoint
                    touched.append(name)
                }
                toPlace = nil
            } else {
                location[type]![id] = nil
                if slices[name]!.endpoints.count == 1 {
                    // Emptied: deleted as it stands, as the full reconcile deletes the stored object.
                    deleted.append(name)
                } else {
                    slices[name]!.endpoints.remove(at: index)
                    touched.append(name)
                }
            }
        }

        // 2–3. The new endpoint tops up a slice of its port list being written anyway, else goes to the one
        // that ends closest to full, else to a new slice.
        var creates: [EndpointSlice] = []
        if let endpoint = toPlace, let key = new?.key {
            let group = typeSlices.filter { (slices[$0]!.ports ?? []) == key.ports && !deleted.contains($0) }
            var target = group.first { touched.contains($0) && slices[$0]!.endpoints.count < max }
            if target == nil {
                var closest = max
                for name in group where !touched.contains(name) {
                    let diff = max - (1 + slices[name]!.endpoints.count)
                    if diff >= 0 && diff < closest {
                        closest = diff
                        target = name
                        if diff == 0 { break }
                    }
                }
            }
            if let target {
                location[type, default: [:]][EndpointIdentity(endpoint)] = target
                slices[target]!.endpoints.append(endpoint)
                if !touched.contains(target) { touched.append(target) }
            } else {
                var slice = EndpointSlice.new(for: service, type: type, ports: key.ports, names: &names)
                slice.endpoints = [endpoint]
                creates.append(slice)
            }
        }

        // Port lists nobody wants any more lose their slices (a placeholder, or the old list of a moved pod).
        for key in Set([old?.key, EndpointPortKey([])].compactMap { $0 }) where (keyUsers[type]?[key] ?? 0) == 0 {
            for name in typeSlices where !deleted.contains(name) && (slices[name]!.ports ?? []) == key.ports {
                deleted.append(name)
                touched.removeAll { $0 == name }
            }
        }

        var plan = SlicePlan()
        plan.creates = creates
        plan.updates = touched.map { slices[$0]! }
        plan.deletes = deleted.map { slices[$0]! }
        plan.addPlaceholderIfNeeded(existingCount: typeSlices.count, type: type, service: service, names: &names)
        plan.applyHints(service: service)
        let changes = plan.finalize(service: service, triggerTime: triggerTime)

        let wasTouched = Set(touched)
        for slice in changes.deletes { remove(slice.name) }
        for slice in changes.updates {
            if wasTouched.contains(slice.name) {
                // Endpoints already indexed; only the stamped metadata (and hints) changed.
                slices[slice.name] = slice
            } else {
                // A new slice that took a deleted slice's name.
                store(slice)
            }
        }
        for slice in changes.creates { store(slice) }
        return changes
    }

    private mutating func store(_ slice: EndpointSlice) {
        if let previous = slices[slice.name] {
            unindex(previous)
        } else {
            order.append(slice.name)
        }
        slices[slice.name] = slice
        for endpoint in slice.endpoints { location[slice.addressType, default: [:]][EndpointIdentity(endpoint)] = slice.name }
    }

    private mutating func remove(_ name: String) {
        guard let slice = slices.removeValue(forKey: name) else { return }
        unindex(slice)
        order.removeAll { $0 == name }
    }

    /// Forgets where `slice`'s endpoints are, except those already recorded elsewhere (an endpoint that moved
    /// to another slice in the same change).
    private mutating func unindex(_ slice: EndpointSlice) {
        for endpoint in slice.endpoints {
            let id = EndpointIdentity(endpoint)
            if location[slice.addressType]?[id] == slice.name { location[slice.addressType]?[id] = nil }
        }
    }
}
