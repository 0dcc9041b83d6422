import ClusterStore
import KubeAPI

/// What discovery says about a resource, and what the server needs to route to it.
struct ResourceInfo: Sendable {
    var key: ResourceKey
    var kind: String
    var version: String
    var singular: String
    var namespaced: Bool
    var shortNames: [String]
    var categories: [String]
    /// Subresources served (`status`).
    var subresources: [String]
    var verbs: [String] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    /// Whether a PUT to a missing name creates it (Services, Endpoints and EndpointSlices do upstream).
    var allowCreateOnUpdate: Bool
    var selectableFields: [String]

    var group: String { key.group }
    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var plural: String { key.resource }
}
