import KubeAPI
import KubeClient
import NIOCore
import NIOHTTP1

/// `ClusterClient` over the Kubernetes wire protocol (JSON over HTTP/1.1, on TCP or a Unix socket): what the
/// node agent, proxy and DNS use against `switchboard up` or any kube-apiserver on plain HTTP.
public struct HTTPClusterClient: ClusterClient {
    public let pool: HTTPConnectionPool

    public init(endpoint: APIEndpoint, maxIdleConnections: Int = 8) {
        pool = HTTPConnectionPool(endpoint: endpoint, maxIdle: maxIdleConnections)
    }

    public var endpoint: APIEndpoint { pool.endpoint }

    /// Closes idle connections (open watches end with their tasks).
    public func shutdown() async { await pool.shutdown() }

    // MARK: Reads

    public func get<T: APIObject>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        try await call(.GET, APIPath.object(type, namespace: namespace, name: name), as: T.self)
    }

    public func list<T: APIObject>(_ type: T.Type, namespace: String?, options: ListOptions) async throws
        -> (items: [T], resourceVersion: String)
    {
        let target = APIPath.collection(type, namespace: namespace) + QueryEncoding.query([
            ("labelSelector", options.labelSelector), ("fieldSelector", options.fieldSelector),
        ])
        let list = try await call(.GET, target, as: ObjectList<T>.self)
        return (list.items, list.metadata.resourceVersion ?? "")
    }

    public func watch<T: APIObject>(
        _ type: T.Type, namespace: String?, options: ListOptions, from resourceVersion: String,
        handle: @Sendable (WatchEvent<T>) async throws -> Void
    ) async throws {
        // Like client-go: the server ends each watch after 5 to 10 minutes, spreading re-watches out.
        let target = APIPath.collection(type, namespace: namespace) + QueryEncoding.query([
            ("watch", "true"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(Int.random(in: 300...600))),
            ("labelSelector", options.labelSelector), ("fieldSelector", options.fieldSelector),
        ])
        let refused = try await HTTPWatchStream.run(APIRequestMessage(method: .GET, target: target), endpoint: endpoint) { line in
            let event: WatchEvent<T>
            do {
                event = try KubeJSON.decode(WatchEvent<T>.self, bytes: line.readableBytesView).value
            } catch {
                throw HTTPTransportError("undecodable watch event: \(error)")
            }
            if let status = event.status { throw status }
            try await handle(event)
        }
        if let refused { throw Self.status(of: refused) }
    }

    /// A watch request (`target` is the path with `?watch=true&…`) whose event lines are handed to `handle`
    /// undecoded: for tools that only look for a name, and for benchmarks.
    public func watchLines(_ target: String, handle: (ByteBuffer) async throws -> Void) async throws {
        if let refused = try await HTTPWatchStream.run(APIRequestMessage(method: .GET, target: target), endpoint: endpoint, handle: handle) {
            throw Self.status(of: refused)
        }
    }

    // MARK: Writes

    public func create<T: APIObject>(_ object: T) async throws -> T {
        try await call(.POST, APIPath.collection(T.self, namespace: object.metadata.namespace), body: object, as: T.self)
    }

    public func update<T: APIObject>(_ object: T, subresource: String?) async throws -> T {
        try await call(
            .PUT, APIPath.object(T.self, namespace: object.metadata.namespace, name: object.name, subresource: subresource),
            body: object, as: T.self)
    }

    public func delete<T: APIObject>(_ type: T.Type, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws {
        let target = APIPath.object(type, namespace: namespace, name: name) + QueryEncoding.query([
            ("gracePeriodSeconds", gracePeriodSeconds.map { String($0) })
        ])
        _ = try await send(APIRequestMessage(method: .DELETE, target: target))
    }

    public func bind(namespace: String, name: String, nodeName: String) async throws {
        let request = APIRequestMessage(
            method: .POST, target: APIPath.object(Pod.self, namespace: namespace, name: name, subresource: "binding"),
            headers: [("Content-Type", "application/json")],
            body: ByteBuffer(bytes: try KubeJSON.encode(PodBinding(namespace: namespace, podName: name, nodeName: nodeName))))
        _ = try await send(request)
    }

    public func deleteCollection<T: APIObject>(_ type: T.Type, namespace: String, options: ListOptions) async throws {
        let target = APIPath.collection(type, namespace: namespace) + QueryEncoding.query([
            ("labelSelector", options.labelSelector), ("fieldSelector", options.fieldSelector),
        ])
        _ = try await send(APIRequestMessage(method: .DELETE, target: target))
    }

    /// Any request; a non-2xx answer is thrown as its `Status`.
    public func send(_ request: APIRequestMessage) async throws -> APIResponseMessage {
        let response = try await pool.send(request)
        guard (200..<300).contains(response.status) else { throw Self.status(of: response) }
        return response
    }

    private func call<R: Decodable>(_ method: HTTPMethod, _ target: String, as type: R.Type) async throws -> R {
        try Self.decode(type, try await send(APIRequestMessage(method: method, target: target)))
    }

    private func call<B: Encodable, R: Decodable>(_ method: HTTPMethod, _ target: String, body: B, as type: R.Type) async throws -> R {
        let request = APIRequestMessage(
            method: method, target: target, headers: [("Content-Type", "application/json")],
            body: ByteBuffer(bytes: try KubeJSON.encode(body)))
        return try Self.decode(type, try await send(request))
    }

    static func decode<R: Decodable>(_ type: R.Type, _ response: APIResponseMessage) throws -> R {
        do {
            return try KubeJSON.decode(type, bytes: response.body.readableBytesView).value
        } catch {
            throw HTTPTransportError("undecodable response: \(error)")
        }
    }

    /// The `Status` a refused request carried, or one made from the HTTP status when the body is not one.
    static func status(of response: APIResponseMessage) -> Status {
        if let status = try? KubeJSON.decode(Status.self, bytes: response.body.readableBytesView).value, status.code != nil {
            return status
        }
        let text = String(decoding: response.body.readableBytesView.prefix(200), as: UTF8.self)
        return Status(message: "HTTP \(response.status): \(text)", reason: StatusReason(rawValue: ""), code: Int32(response.status))
    }
}
