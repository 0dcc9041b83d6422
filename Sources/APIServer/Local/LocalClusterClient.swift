#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterStore
import KubeAPI
import KubeClient
import NIOCore

/// The `ClusterClient` of components inside the control plane process: reads and watches come straight from
/// the store (no JSON), writes go through `APIServer.handle`, so admission and validation are the same as for
/// any client.
public struct LocalClusterClient: ClusterClient {
    let server: APIServer

    public init(server: APIServer) { self.server = server }

    private func info<T: APIObject>(_ type: T.Type) throws -> ResourceInfo {
        guard let info = APIServer.resources.first(where: { $0.kind == T.kind && $0.apiVersion == T.apiVersion }) else {
            throw Status.notFound(resource: "no resource for \(T.kind)")
        }
        return info
    }

    private func predicate<T: APIObject>(_ type: T.Type, _ options: ListOptions) throws -> @Sendable (StoredObject) -> Bool {
        try info(type).selectorPredicate(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
    }

    public func list<T: APIObject>(_ type: T.Type, namespace: String?, options: ListOptions) async throws
        -> (items: [T], resourceVersion: String)
    {
        let matches = try predicate(type, options)
        let (items, version) = server.store.list(try info(type).key, namespace: namespace)
        return (items.compactMap { matches($0) ? $0.object as? T : nil }, String(version))
    }

    public func watch<T: APIObject>(
        _ type: T.Type, namespace: String?, options: ListOptions, from resourceVersion: String,
        handle: @Sendable (WatchEvent<T>) async throws -> Void
    ) async throws {
        var filter = WatchFilter(resource: try info(type).key, namespace: namespace)
        filter.predicate = try predicate(type, options)
        let watcher: Watcher
        do {
            watcher = try server.store.watch(filter, from: Int64(resourceVersion))
        } catch {
            throw server.status(for: error, info: try info(type))
        }
        defer { watcher.cancel() }
        for try await event in LocalWatchEvents<T>(watcher: watcher) {
            try await handle(event)
        }
    }

    private func path<T: APIObject>(_ object: T, name: String?, subresource: String? = nil) -> String {
        guard let name else { return APIPath.collection(T.self, namespace: object.metadata.namespace) }
        return APIPath.object(T.self, namespace: object.metadata.namespace, name: name, subresource: subresource)
    }

    public func get<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        let info = try info(type)
        guard let stored = server.store.get(info.key, ObjectKey(namespace: info.namespaced ? namespace ?? "" : "", name: name)),
            let object = stored.object as? T
        else { throw Status.notFound(resource: info.plural, group: info.group, name: name) }
        return object
    }

    private func send<T: APIObject>(_ method: String, _ path: String, body: T?) async throws -> T? {
        var request = APIRequest(method: method, path: path, headers: ["content-type": "application/json"])
        if let body { request.body = ByteBuffer(bytes: try KubeJSON.encode(body)) }
        let response = await server.handle(request)
        let bytes = response.bytes.readableBytesView
        guard (200..<300).contains(response.status) else {
            throw (try? KubeJSON.decode(Status.self, bytes: bytes).value) ?? Status.internalError("HTTP \(response.status)")
        }
        return bytes.isEmpty ? nil : try KubeJSON.decode(T.self, bytes: bytes).value
    }

    public func create<T: APIObject>(_ object: T) async throws -> T {
        try await send("POST", path(object, name: nil), body: object) ?? object
    }

    public func update<T: APIObject>(_ object: T, subresource: String?) async throws -> T {
        try await send("PUT", path(object, name: object.name, subresource: subresource), body: object) ?? object
    }

    public func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws {
        var request = APIRequest(method: "DELETE", path: APIPath.object(type, namespace: namespace, name: name))
        if let gracePeriodSeconds { request.query.append(("gracePeriodSeconds", String(gracePeriodSeconds))) }
        try check(await server.handle(request))
    }

    public func bind(namespace: String, name: String, nodeName: String) async throws {
        let request = APIRequest(
            method: "POST", path: APIPath.object(Pod.self, namespace: namespace, name: name, subresource: "binding"),
            headers: ["content-type": "application/json"],
            body: ByteBuffer(bytes: try KubeJSON.encode(PodBinding(namespace: namespace, podName: name, nodeName: nodeName))))
        try check(await server.handle(request))
    }

    /// A refused request's `Status`, thrown.
    private func check(_ response: APIResponse) throws {
        guard (200..<300).contains(response.status) else {
            throw (try? KubeJSON.decode(Status.self, bytes: response.bytes.readableBytesView).value) ?? Status.internalError("HTTP \(response.status)")
        }
    }

    public func deleteCollection<T: APIObject>(_ type: T.Type, namespace: String, options: ListOptions) async throws {
        var request = APIRequest(method: "DELETE", path: APIPath.collection(type, namespace: namespace))
        if let selector = options.labelSelector { request.query.append(("labelSelector", selector)) }
        if let selector = options.fieldSelector { request.query.append(("fieldSelector", selector)) }
        try check(await server.handle(request))
    }
}

/// A store watch as typed events. When the store ends the watch (the consumer fell behind, or shutdown) the
/// sequence throws the Status a remote client would see, so a reflector lists again or backs off instead of
/// re-watching in a tight loop.
struct LocalWatchEvents<T: APIObject>: AsyncSequence {
    typealias Element = WatchEvent<T>
    let watcher: Watcher

    struct AsyncIterator: AsyncIteratorProtocol {
        let watcher: Watcher
        var deliveries: Watcher.AsyncIterator

        mutating func next() async throws -> WatchEvent<T>? {
            while let delivery = await deliveries.next() {
                if case .event(let type, let stored) = delivery, let object = stored.object as? T {
                    return WatchEvent(type: type, object: object)
                }
            }
            switch watcher.terminatedBecause {
            case .tooSlow:
                throw Status(message: "the watch fell too far behind", reason: .expired, code: 410)
            case .shutdown:
                throw Status(message: "the server is shutting down", reason: .serviceUnavailable, code: 503)
            case nil:
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(watcher: watcher, deliveries: watcher.makeAsyncIterator())
    }
}
