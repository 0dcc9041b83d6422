/// A kind of object in the store, named as in URLs: group and plural resource (`""`/`services`,
/// `discovery.k8s.io`/`endpointslices`).
public struct ResourceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let group: String
    public let resource: String

    public init(group: String = "", resource: String) {
        self.group = group
        self.resource = resource
    }

    /// `services`, or `endpointslices.discovery.k8s.io`.
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// Parses `description`.
    public init(_ text: String) {
        if let dot = text.firstIndex(of: ".") {
            self.init(group: String(text[text.index(after: dot)...]), resource: String(text[..<dot]))
        } else {
            self.init(resource: text)
        }
    }

    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { a.description < b.description }
}

/// Where an object lives within its resource: namespace (empty for cluster-scoped) and name.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public init(namespace: String = "", name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        a.namespace != b.namespace ? a.namespace < b.namespace : a.name < b.name
    }
}
