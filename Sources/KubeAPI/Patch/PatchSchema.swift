/// How the lists of one kind merge under a strategic merge patch: the `patchStrategy` and `patchMergeKey`
/// struct tags of the Go types, for the fields Switchboard's kinds have. A list not named here is replaced
/// whole, as upstream replaces lists without a strategy.
public struct PatchSchema: Sendable {
    public enum ListStrategy: Sendable, Hashable {
        /// Items with the same value of this member are the same item, merged recursively.
        case mergeByKey(String)
        /// A set of scalars: the patch adds values (`$deleteFromPrimitiveList` removes them).
        case mergePrimitives
    }

    /// Field paths (`spec.containers[].ports`) to their strategy.
    public let lists: [String: ListStrategy]

    public init(lists: [String: ListStrategy]) { self.lists = lists }

    static let metadata: [String: ListStrategy] = [
        "metadata.ownerReferences": .mergeByKey("uid"),
        "metadata.finalizers": .mergePrimitives,
    ]

    static let containerLists: [String: ListStrategy] = [
        "ports": .mergeByKey("containerPort"),
        "env": .mergeByKey("name"),
        "volumeMounts": .mergeByKey("mountPath"),
        "volumeDevices": .mergeByKey("devicePath"),
    ]

    public static let service = PatchSchema(lists: metadata.merging([
        "spec.ports": .mergeByKey("port"),
        "status.conditions": .mergeByKey("type"),
    ]) { a, _ in a })

    public static let pod: PatchSchema = {
        var lists = metadata.merging([
            "spec.containers": .mergeByKey("name"),
            "spec.initContainers": .mergeByKey("name"),
            "spec.ephemeralContainers": .mergeByKey("name"),
            "spec.volumes": .mergeByKey("name"),
            "spec.imagePullSecrets": .mergeByKey("name"),
            "spec.hostAliases": .mergeByKey("ip"),
            "status.conditions": .mergeByKey("type"),
            "status.podIPs": .mergeByKey("ip"),
            "status.hostIPs": .mergeByKey("ip"),
        ]) { a, _ in a }
        for prefix in ["spec.containers[]", "spec.initContainers[]", "spec.ephemeralContainers[]"] {
            for (field, strategy) in containerLists { lists["\(prefix).\(field)"] = strategy }
        }
        return PatchSchema(lists: lists)
    }()

    public static let node = PatchSchema(lists: metadata.merging([
        "status.conditions": .mergeByKey("type"),
        "status.addresses": .mergeByKey("type"),
    ]) { a, _ in a })

    /// Namespaces, Endpoints, EndpointSlices and Events: only the metadata lists merge.
    public static let metadataOnly = PatchSchema(lists: metadata)
}
