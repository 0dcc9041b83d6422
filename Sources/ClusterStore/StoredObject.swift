import KubeAPI
import NIOCore

/// An object as the store holds it: typed, at a resourceVersion, and encoded once as the JSON every reader gets.
public struct StoredObject: Sendable {
    public let resource: ResourceKey
    public let key: ObjectKey
    public let resourceVersion: Int64
    /// The object, with `metadata.resourceVersion`, `apiVersion` and `kind` set.
    public let object: any APIObject
    /// `object` as JSON, shared by every get, list and watch that returns it.
    public let json: ByteBuffer

    public init(resource: ResourceKey, key: ObjectKey, resourceVersion: Int64, object: any APIObject, json: ByteBuffer) {
        self.resource = resource
        self.key = key
        self.resourceVersion = resourceVersion
        self.object = object
        self.json = json
    }

    /// Stamps `object` with `resourceVersion` and type metadata and encodes it.
    public init(resource: ResourceKey, resourceVersion: Int64, object: any APIObject) throws {
        var stamped = object.withTypeMeta()
        stamped.metadata.resourceVersion = String(resourceVersion)
        self.resource = resource
        self.key = ObjectKey(namespace: stamped.metadata.namespace ?? "", name: stamped.metadata.name ?? "")
        self.resourceVersion = resourceVersion
        self.object = stamped
        self.json = ByteBuffer(bytes: try KubeJSON.encode(stamped))
    }

    public var uid: String { object.metadata.uid ?? "" }
    public var labels: [String: String] { object.metadata.labels ?? [:] }

    /// The object as a value of its concrete type.
    public func decoded<T: APIObject>(as type: T.Type) -> T? { object as? T }
}
