import KubeAPI

/// Typed access to a Kubernetes API for components that run against it (controllers, proxy, DNS, node agent).
///
/// Errors are `Status` values, as the API returns them. An in-process implementation talks to the store
/// directly; an HTTP one (for components in other processes or network namespaces) speaks the wire protocol.
public protocol ClusterClient: Sendable {
    /// Every object of a kind (in one namespace, or all), and the resourceVersion to watch from.
    func list<T: APIObject>(_ type: T.Type, namespace: String?) async throws -> (items: [T], resourceVersion: String)

    /// Changes after `resourceVersion`, until the server ends the watch. A `Status` with code 410 (thrown or
    /// as an ERROR event) means the version is too old: list again.
    func watch<T: APIObject>(_ type: T.Type, namespace: String?, from resourceVersion: String) async throws
        -> any AsyncSequence<WatchEvent<T>, any Error>

    func create<T: APIObject>(_ object: T) async throws -> T
    /// Replaces the object; with `metadata.resourceVersion` set, only if it is still that version.
    func update<T: APIObject>(_ object: T) async throws -> T
    /// Replaces the object's status (the `status` subresource).
    func updateStatus<T: APIObject>(_ object: T) async throws -> T
    func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws
}

extension Status {
    /// True for 410 Gone/Expired: the watch must restart from a fresh list.
    public var isExpired: Bool { code == 410 || reason == .expired || reason == .gone }
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 && reason == .conflict }
    public var isAlreadyExists: Bool { reason == .alreadyExists }
}
