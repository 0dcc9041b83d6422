import KubeAPI

/// Which objects a list or watch wants, as the API's `labelSelector` and `fieldSelector` parameters.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// Everything.
    public static let all = ListOptions()
}

/// Typed access to a Kubernetes API for components that run against it (controllers, proxy, DNS, node agent).
///
/// Errors are `Status` values, as the API returns them. An in-process implementation talks to the store
/// directly; `HTTPClusterClient` (for other processes and network namespaces) speaks the wire protocol.
public protocol ClusterClient: Sendable {
    /// Every matching object of a kind (in one namespace, or all), and the resourceVersion to watch from.
    func list<T: APIObject>(_ type: T.Type, namespace: String?, options: ListOptions) async throws
        -> (items: [T], resourceVersion: String)

    /// One object; a `Status` with code 404 when there is none.
    func get<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws -> T

    /// Delivers the changes after `resourceVersion` to `handle`, one at a time (a slow handler slows the
    /// stream, it never drops events), until the server ends the watch. ERROR events are thrown as their
    /// `Status`; code 410 means the version is too old: list again.
    func watch<T: APIObject>(
        _ type: T.Type, namespace: String?, options: ListOptions, from resourceVersion: String,
        handle: @Sendable (WatchEvent<T>) async throws -> Void
    ) async throws

    func create<T: APIObject>(_ object: T) async throws -> T
    /// Replaces the object, or with `subresource` that part of it (`status`; a namespace's `finalize`); with
    /// `metadata.resourceVersion` set, only if it is still that version.
    func update<T: APIObject>(_ object: T, subresource: String?) async throws -> T
    /// Deletes one object. `gracePeriodSeconds` overrides the object's own (a pod's
    /// `terminationGracePeriodSeconds`); 0 deletes a pod at once, as a node does once its processes are gone.
    func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws
    /// Assigns a pod to a node: the scheduler's write, `POST pods/NAME/binding` with a `v1 Binding`. A `Status`
    /// with code 409 when the pod is already on a node.
    func bind(namespace: String, name: String, nodeName: String) async throws
    /// Deletes every matching object of a kind in a namespace.
    func deleteCollection<T: APIObject>(_ type: T.Type, namespace: String, options: ListOptions) async throws
}

extension ClusterClient {
    /// Replaces the object; with `metadata.resourceVersion` set, only if it is still that version.
    public func update<T: APIObject>(_ object: T) async throws -> T {
        try await update(object, subresource: nil)
    }

    /// Replaces the object's status (the `status` subresource).
    public func updateStatus<T: APIObject>(_ object: T) async throws -> T {
        try await update(object, subresource: "status")
    }

    /// Deletes one object with its own grace period.
    public func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws {
        try await delete(type, namespace: namespace, name: name, gracePeriodSeconds: nil)
    }

    public func list<T: APIObject>(_ type: T.Type, namespace: String?) async throws -> (items: [T], resourceVersion: String) {
        try await list(type, namespace: namespace, options: .all)
    }

    public func watch<T: APIObject>(
        _ type: T.Type, namespace: String?, from resourceVersion: String,
        handle: @Sendable (WatchEvent<T>) async throws -> Void
    ) async throws {
        try await watch(type, namespace: namespace, options: .all, from: resourceVersion, handle: handle)
    }
}

/// A `core/v1 Binding`: the body of `POST /api/v1/namespaces/NS/pods/NAME/binding`, which sets the pod's
/// `spec.nodeName` (the one way to change it once the pod exists).
public struct PodBinding: Codable, Hashable, Sendable {
    public struct Target: Codable, Hashable, Sendable {
        public var apiVersion: String
        public var kind: String
        public var name: String
    }

    public var apiVersion = "v1"
    public var kind = "Binding"
    public var metadata: ObjectMeta
    public var target: Target

    public init(namespace: String, podName: String, nodeName: String) {
        metadata = ObjectMeta(name: podName, namespace: namespace)
        target = Target(apiVersion: "v1", kind: "Node", name: nodeName)
    }
}

extension Status {
    /// True for 410 Gone/Expired: the watch must restart from a fresh list.
    public var isExpired: Bool { code == 410 || reason == .expired || reason == .gone }
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 && reason == .conflict }
    public var isAlreadyExists: Bool { reason == .alreadyExists }
}
