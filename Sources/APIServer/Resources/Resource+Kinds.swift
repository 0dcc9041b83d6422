import ClusterStore
import KubeAPI

extension ResourceInfo {
    static let namespaces = ResourceInfo(
        key: ResourceKey(resource: "namespaces"), kind: "Namespace", version: "v1", singular: "namespace",
        namespaced: false, shortNames: ["ns"], categories: [], subresources: ["status", "finalize"],
        allowCreateOnUpdate: false, selectableFields: Namespace.selectableFields)
    static let nodes = ResourceInfo(
        key: ResourceKey(resource: "nodes"), kind: "Node", version: "v1", singular: "node", namespaced: false,
        shortNames: ["no"], categories: [], subresources: ["status"], allowCreateOnUpdate: false,
        selectableFields: Node.selectableFields)
    static let pods = ResourceInfo(
        key: ResourceKey(resource: "pods"), kind: "Pod", version: "v1", singular: "pod", namespaced: true,
        shortNames: ["po"], categories: ["all"], subresources: ["status", "binding", "log"],
        allowCreateOnUpdate: false, selectableFields: Pod.selectableFields)
    static let services = ResourceInfo(
        key: ResourceKey(resource: "services"), kind: "Service", version: "v1", singular: "service", namespaced: true,
        shortNames: ["svc"], categories: ["all"], subresources: ["status"], allowCreateOnUpdate: true,
        selectableFields: Service.selectableFields)
    static let endpoints = ResourceInfo(
        key: ResourceKey(resource: "endpoints"), kind: "Endpoints", version: "v1", singular: "endpoints",
        namespaced: true, shortNames: ["ep"], categories: [], subresources: [], allowCreateOnUpdate: true,
        selectableFields: Endpoints.selectableFields)
    static let events = ResourceInfo(
        key: ResourceKey(resource: "events"), kind: "Event", version: "v1", singular: "event", namespaced: true,
        shortNames: ["ev"], categories: [], subresources: [], allowCreateOnUpdate: true,
        selectableFields: Event.selectableFields)
    static let endpointSlices = ResourceInfo(
        key: ResourceKey(group: "discovery.k8s.io", resource: "endpointslices"), kind: "EndpointSlice", version: "v1",
        singular: "endpointslice", namespaced: true, shortNames: [], categories: [], subresources: [],
        allowCreateOnUpdate: true, selectableFields: EndpointSlice.selectableFields)
}

extension Namespace {
    /// `SetDefaults_Namespace` and the registry's: the name label, the `kubernetes` finalizer, phase Active.
    mutating func applyDefaults() {
        var labels = metadata.labels ?? [:]
        labels["kubernetes.io/metadata.name"] = metadata.name
        metadata.labels = labels
        if spec.finalizers == nil { spec.finalizers = ["kubernetes"] }
        if status.phase == nil { status.phase = "Active" }
    }
}

extension Pod {
    /// Upstream `ValidatePodUpdate`'s main rule: a pod's spec is fixed once created, but for images, the
    /// active deadline and tolerations.
    func validateSpecUpdate(from old: Pod) -> [FieldError] {
        func masked(_ spec: PodSpec) -> PodSpec {
            var s = spec
            s.containers = s.containers?.map { var c = $0; c.image = nil; return c }
            s.initContainers = s.initContainers?.map { var c = $0; c.image = nil; return c }
            s.activeDeadlineSeconds = nil
            s.tolerations = nil
            return s
        }
        guard masked(spec) != masked(old.spec) else { return [] }
        return [.forbidden(
            FieldPath("spec"),
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")]
    }
}

enum Behaviours {
    static let namespace = ResourceBehaviour<Namespace>.validating(
        defaults: { $0.applyDefaults() }, validate: { $0.validate() },
        copyStatus: { from, to in to.status = from.status },
        prepareForUpdate: { new, old in new.spec.finalizers = old.spec.finalizers })

    static let node = ResourceBehaviour<Node>.validating(
        schema: .node, validate: { $0.validate() }, copyStatus: { from, to in to.status = from.status })

    static let pod = ResourceBehaviour<Pod>.validating(
        schema: .pod, defaults: { $0.applyDefaults() }, validate: { $0.validate() },
        validateUpdate: { new, old in new.metadata.validateUpdate(from: old.metadata) + new.validateSpecUpdate(from: old) + new.validate() },
        copyStatus: { from, to in to.status = from.status })

    static let endpoints = ResourceBehaviour<Endpoints>.validating(validate: { $0.validate() })

    static let endpointSlice = ResourceBehaviour<EndpointSlice>.validating(
        validate: { $0.validate() }, validateUpdate: { new, old in new.validateUpdate(from: old) })

    static let event = ResourceBehaviour<Event>.validating(
        validate: { $0.metadata.validate(nameRule: .dns1123Subdomain, namespaced: true) })
}
