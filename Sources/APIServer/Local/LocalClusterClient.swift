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

    public func list<T: APIObject>(_ type: T.Type, namespace: String?) async throws -> (items: [T], resourceVersion: String) {
        let (items, version) = server.store.list(try info(type).key, namespace: namespace)
        return (items.compactMap { $0.object as? T }, String(version))
    }

    public func watch<T: APIObject>(_ type: T.Type, namespace: String?, from resourceVersion: String) async throws
        -> any AsyncSequence<WatchEvent<T>, any Error>
    {
        let filter = WatchFilter(resource: try info(type).key, namespace: namespace)
        let watcher: Watcher
        do {
            watcher = try server.store.watch(filter, from: Int64(resourceVersion))
        } catch .expired(let requested, let oldest) {
            throw Status(message: "too old resource version: \(requested) (\(oldest))", reason: .expired, code: 410)
        } catch {
            throw Status.internalError("\(error)")
        }
        return watcher.compactMap { delivery -> WatchEvent<T>? in
            guard case .event(let type, let stored) = delivery, let object = stored.object as? T else { return nil }
            return WatchEvent(type: type, object: object)
        }
    }

    private func path<T: APIObject>(_ object: T, name: String?, subresource: String? = nil) throws -> String {
        let info = try info(T.self)
        var path = info.group.isEmpty ? "/api/\(info.version)" : "/apis/\(info.group)/\(info.version)"
        if info.namespaced { path += "/namespaces/\(object.metadata.namespace ?? "")" }
        path += "/\(info.plural)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
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

    public func update<T: APIObject>(_ object: T) async throws -> T {
        try await send("PUT", path(object, name: object.name), body: object) ?? object
    }

    public func updateStatus<T: APIObject>(_ object: T) async throws -> T {
        try await send("PUT", path(object, name: object.name, subresource: "status"), body: object) ?? object
    }

    public func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws {
        var probe = try KubeJSON.decode(T.self, from: JSONValue.object([:])).value
        probe.metadata.namespace = namespace
        let response = await server.handle(APIRequest(method: "DELETE", path: try path(probe, name: name)))
        guard (200..<300).contains(response.status) else {
            throw (try? KubeJSON.decode(Status.self, bytes: response.bytes.readableBytesView).value) ?? Status.internalError("HTTP \(response.status)")
        }
    }
}
