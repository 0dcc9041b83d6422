import ClusterStore
import KubeAPI
import NIOCore

/// One resource's request handling, with the concrete type hidden so that the server can keep them in a table.
protocol ResourceHandler: Sendable {
    var info: ResourceInfo { get }
    func decodeStored(_ json: ByteBuffer) throws -> any APIObject
    func handle(_ request: APIRequest, _ target: RequestInfo, server: APIServer) async -> APIResponse
}

/// The handler of objects of one Swift type: decoding, admission, storage, tables, watches.
struct TypedResource<Object: APIObject & TablePrintable>: ResourceHandler {
    let info: ResourceInfo
    let behaviour: ResourceBehaviour<Object>

    func decodeStored(_ json: ByteBuffer) throws -> any APIObject {
        try KubeJSON.decode(Object.self, bytes: json.readableBytesView).value
    }

    func handle(_ request: APIRequest, _ target: RequestInfo, server: APIServer) async -> APIResponse {
        do throws(Status) {
            if info.namespaced == false && target.namespace != nil {
                throw Status.notFound(resource: "the server could not find the requested resource")
            }
            switch (request.method, target.name, target.subresource) {
            case ("GET", nil, nil):
                return try request.flag("watch") ? await watch(request, target, server: server) : list(request, target, server: server)
            case ("GET", let name?, nil), ("GET", let name?, "status"):
                return try get(request, target, name: name, server: server)
            case ("GET", let name?, "log") where info.key == ResourceInfo.pods.key:
                return try await server.podLog(request, namespace: target.namespace ?? "", name: name)
            case ("POST", nil, nil):
                return try await create(request, target, server: server)
            case ("POST", let name?, "binding") where info.key == ResourceInfo.pods.key:
                return try await bind(request, target, name: name, server: server)
            case ("PUT", let name?, let sub) where sub == nil || sub == "status":
                return try await update(request, target, name: name, statusOnly: sub == "status", server: server)
            case ("PATCH", let name?, let sub) where sub == nil || sub == "status":
                return try await patch(request, target, name: name, statusOnly: sub == "status", server: server)
            case ("PUT", let name?, "finalize") where info.key == ResourceInfo.namespaces.key:
                return try await finalize(request, target, name: name, server: server)
            case ("DELETE", nil, nil):
                return try await deleteCollection(request, target, server: server)
            case ("DELETE", let name?, nil):
                return try await delete(request, target, name: name, server: server)
            case (_, _, let sub?) where !info.subresources.contains(sub):
                throw Status.notFound(resource: "the server could not find the requested resource")
            default:
                throw Status(message: "the server does not allow this method on the requested resource", reason: .methodNotAllowed, code: 405)
            }
        } catch {
            return server.respond(error)
        }
    }

    func key(_ target: RequestInfo, name: String) -> ObjectKey {
        ObjectKey(namespace: info.namespaced ? (target.namespace ?? "") : "", name: name)
    }

    /// `services "web" not found` for this resource.
    func notFound(_ name: String) -> Status { Status.notFound(resource: info.plural, group: info.group, name: name) }

    /// The typed object a stored object holds.
    func typed(_ stored: StoredObject) -> Object { stored.object as! Object }
}

extension Status {
    /// 404 with a plain message (unknown paths).
    static func notFound(resource message: String) -> Status {
        Status(message: message, reason: .notFound, details: StatusDetails(), code: 404)
    }
}
