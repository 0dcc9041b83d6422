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
    func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws
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

extension Status {
    /// True for 410 Gone/Expired: the watch must restart from a fresh list.
    public var isExpired: Bool { code == 410 || reason == .expired || reason == .gone }
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 && reason == .conflict }
    public var isAlreadyExists: Bool { reason == .alreadyExists }
}
