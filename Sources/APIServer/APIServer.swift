#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterStore
import IPAM
import KubeAPI
import Logging
import NIOCore
import ServiceRegistry

/// The Kubernetes API for the objects ClusterIP networking needs: namespaces, nodes, pods, services,
/// endpoints, endpointslices and events, with discovery, OpenAPI, tables, watches and admission.
///
/// Transport-free: `handle` takes an `APIRequest` and returns an `APIResponse`; `HTTPServer` puts it on a TCP
/// port and a Unix socket.
public final class APIServer: Sendable {
    public let store: ObjectStore
    let handlers: [any ResourceHandler]
    private let byPath: [String: any ResourceHandler]
    let serviceAllocation: ServiceAllocation
    let logger: Logger

    /// The version reported at `/version`: the kubectl on these machines picks its own minor version from it.
    public static let kubernetesVersion = (major: "1", minor: "32", gitVersion: "v1.32.4-switchboard")

    /// The resource handlers, by the resource key the store uses.
    static let resources: [ResourceInfo] = [
        .namespaces, .nodes, .pods, .services, .endpoints, .events, .endpointSlices,
    ]

    public init(store: ObjectStore, serviceCIDRs: [CIDR], logger: Logger = Logger(label: "switchboard.api")) throws {
        self.store = store
        self.logger = logger
        let allocation = ServiceAllocation(registry: ServiceRegistry(allocator: try ClusterIPAllocator(serviceCIDRs: serviceCIDRs)))
        serviceAllocation = allocation
        let handlers: [any ResourceHandler] = [
            TypedResource<Namespace>(info: .namespaces, behaviour: Behaviours.namespace),
            TypedResource<Node>(info: .nodes, behaviour: Behaviours.node),
            TypedResource<Pod>(info: .pods, behaviour: Behaviours.pod),
            TypedResource<Service>(info: .services, behaviour: allocation.behaviour),
            TypedResource<Endpoints>(info: .endpoints, behaviour: Behaviours.endpoints),
            TypedResource<Event>(info: .events, behaviour: Behaviours.event),
            TypedResource<EndpointSlice>(info: .endpointSlices, behaviour: Behaviours.endpointSlice),
        ]
        self.handlers = handlers
        var byPath: [String: any ResourceHandler] = [:]
        for h in handlers { byPath["\(h.info.group)/\(h.info.version)/\(h.info.plural)"] = h }
        self.byPath = byPath
    }

    /// Decodes stored JSON by resource, for opening the store before the server exists.
    public static func decodeStoredObject(_ resource: ResourceKey, _ json: ByteBuffer) throws -> any APIObject {
        let bytes = json.readableBytesView
        switch resource.description {
        case "namespaces": return try KubeJSON.decode(Namespace.self, bytes: bytes).value
        case "nodes": return try KubeJSON.decode(Node.self, bytes: bytes).value
        case "pods": return try KubeJSON.decode(Pod.self, bytes: bytes).value
        case "services": return try KubeJSON.decode(Service.self, bytes: bytes).value
        case "endpoints": return try KubeJSON.decode(Endpoints.self, bytes: bytes).value
        case "events": return try KubeJSON.decode(Event.self, bytes: bytes).value
        case "endpointslices.discovery.k8s.io": return try KubeJSON.decode(EndpointSlice.self, bytes: bytes).value
        default: throw StoreError.encoding("no type for stored resource \(resource)")
        }
    }

    /// Start-up: rebuild the ClusterIP bitmap from stored Services, then make sure the built-in namespaces and
    /// the `default/kubernetes` Service exist. Returns the repair pass's findings.
    @discardableResult
    public func bootstrap(apiServerPort: Int32) async throws -> ClusterIPRepairReport {
        let services = store.list(ResourceInfo.services.key).items.compactMap { $0.object as? Service }
        let report = serviceAllocation.repair(from: services)
        for problem in report.problems { logger.warning("\(problem)") }
        let namespaces = handler(for: ResourceInfo.namespaces.key) as! TypedResource<Namespace>
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"]
        where store.get(ResourceInfo.namespaces.key, ObjectKey(name: name)) == nil {
            try await namespaces.create(Namespace(metadata: ObjectMeta(name: name)), namespace: nil, dryRun: false, server: self)
        }
        if store.get(ResourceInfo.services.key, ObjectKey(namespace: "default", name: "kubernetes")) == nil {
            let services = handler(for: ResourceInfo.services.key) as! TypedResource<Service>
            try await services.create(serviceAllocation.kubernetesService(targetPort: apiServerPort), namespace: "default", dryRun: false, server: self)
        }
        return report
    }

    func handler(for key: ResourceKey) -> (any ResourceHandler)? { handlers.first { $0.info.key == key } }

    /// Answers one request.
    public func handle(_ request: APIRequest) async -> APIResponse {
        if let response = Discovery.respond(to: request, server: self) { return response }
        guard let target = RequestInfo(path: request.path),
            let handler = byPath["\(target.group)/\(target.version)/\(target.resource)"]
        else {
            return respond(Status.notFound(resource: "the server could not find the requested resource"))
        }
        return await handler.handle(request, target, server: self)
    }

    // MARK: Shared helpers

    func respond(_ status: Status) -> APIResponse {
        var s = status
        s.apiVersion = "v1"
        s.kind = "Status"
        s.metadata = ListMeta()
        s.status = "Failure"
        return .json(Int(s.code ?? 500), ByteBuffer.json(s))
    }

    func status(for error: StoreError, info: ResourceInfo) -> Status {
        switch error {
        case .notFound(_, let key): Status.notFound(resource: info.plural, group: info.group, name: key.name)
        case .alreadyExists(_, let key): Status.alreadyExists(resource: info.plural, group: info.group, name: key.name)
        case .conflict(_, let key): Status.conflict(resource: info.plural, group: info.group, name: key.name)
        case .expired(let requested, let oldest):
            Status(message: "too old resource version: \(requested) (\(oldest))", reason: .expired, details: StatusDetails(), code: 410)
        case .persistence(let m), .encoding(let m): Status.internalError(m)
        case .shuttingDown:
            Status(message: "the server is shutting down; retry", reason: .serviceUnavailable, details: StatusDetails(retryAfterSeconds: 1), code: 503)
        }
    }

    /// New objects need their namespace to exist and not be terminating.
    func checkNamespaceAcceptsNewObjects(_ namespace: String) throws(Status) {
        if namespace.isEmpty {
            throw Status.badRequest("the namespace of the object is required")
        }
        guard let ns = store.get(ResourceInfo.namespaces.key, ObjectKey(name: namespace)) else {
            throw Status.notFound(resource: "namespaces", name: namespace)
        }
        if ns.object.metadata.deletionTimestamp != nil {
            throw Status(
                message: "\(ResourceInfo.namespaces.plural) \"\(namespace)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                reason: .forbidden, details: StatusDetails(name: namespace, kind: "namespaces"), code: 403)
        }
    }

    /// `prefix` and five random characters (the same alphabet and length as kube-apiserver).
    func generateName(_ prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(prefix.prefix(58)) + String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// Deletes what the deleted object owned (ownerReferences), and a Service's legacy Endpoints.
    func collectGarbage(ownerUID: String, namespace: String, owner: any APIObject) async {
        for handler in handlers where handler.info.namespaced {
            for stored in store.list(handler.info.key, namespace: namespace).items
            where (stored.object.metadata.ownerReferences ?? []).contains(where: { $0.uid == ownerUID }) {
                _ = try? await store.delete(handler.info.key, stored.key, expectedUID: stored.uid)
            }
        }
        if owner is Service, let endpoints = store.get(ResourceInfo.endpoints.key, ObjectKey(namespace: namespace, name: owner.name)) {
            _ = try? await store.delete(ResourceInfo.endpoints.key, endpoints.key, expectedUID: endpoints.uid)
        }
    }

    // MARK: Tables

    func wantsTable(_ request: APIRequest) -> Bool {
        guard let accept = request.header("accept") else { return false }
        return accept.contains("as=Table") && accept.contains("g=meta.k8s.io")
    }

    func tableResponse<T: TablePrintable & APIObject>(rows: [T], resourceVersion: Int64, continueToken: String? = nil) -> APIResponse {
        let now = Time.now()
        let table = Table(columns: T.tableColumns, rows: rows.map { ($0.tableCells(now: now), $0.metadata) })
        let value = table.value(resourceVersion: resourceVersion, continueToken: continueToken)
        return .json(200, ByteBuffer.json(value))
    }
}
