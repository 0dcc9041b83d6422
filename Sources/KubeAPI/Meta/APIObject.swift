/// A top-level Kubernetes object: it has type metadata (`apiVersion`, `kind`) and `metadata`, and is served by the
/// API under a resource name.
public protocol APIObject: Codable, Hashable, Sendable {
    /// `v1` for the core group, `discovery.k8s.io/v1` otherwise.
    static var apiVersion: String { get }
    static var kind: String { get }
    /// The plural, lower-case resource name in URLs (`services`).
    static var resource: String { get }
    /// The singular, lower-case name (`service`).
    static var singularResource: String { get }
    static var isNamespaced: Bool { get }

    /// Type metadata as decoded; `withTypeMeta()` fills it from the static values.
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }

    /// Fields that `?fieldSelector=` can filter on.
    static var selectableFields: [String] { get }
    /// The object's value of a selectable field, nil for a field the resource does not have.
    func selectableFieldValue(_ field: String) -> String?
}

extension APIObject {
    public static var singularResource: String { kind.lowercased() }

    /// The API group (`""` for the core group).
    public static var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// The version within the group (`v1`).
    public static var version: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return apiVersion }
        return String(apiVersion[apiVersion.index(after: slash)...])
    }

    /// `services`, or `endpointslices.discovery.k8s.io` outside the core group: the name used in error messages.
    public static var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// The object with `apiVersion` and `kind` set, as watch events and single-object responses must carry them.
    public func withTypeMeta() -> Self {
        var copy = self
        copy.apiVersion = Self.apiVersion
        copy.kind = Self.kind
        return copy
    }

    /// The object's name, or "" when it has none yet.
    public var name: String { metadata.name ?? "" }

    /// The object's namespace, or "" for cluster-scoped objects and objects not yet defaulted.
    public var namespace: String { metadata.namespace ?? "" }

    /// The labels, empty when there are none.
    public var labels: [String: String] { metadata.labels ?? [:] }
}
