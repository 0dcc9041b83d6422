#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterStore
import KubeAPI
import NIOCore

/// The parts of `meta/v1 DeleteOptions` the server honours.
struct DeleteOptions: Codable {
    struct Preconditions: Codable {
        var uid: String?
        var resourceVersion: String?
    }

    var gracePeriodSeconds: Int64?
    var preconditions: Preconditions?
    var propagationPolicy: String?
    var dryRun: [String]?
}

extension TypedResource {
    func deleteOptions(_ request: APIRequest) throws(Status) -> DeleteOptions {
        var options = DeleteOptions()
        if request.body.readableBytes > 0 {
            do {
                options = try KubeJSON.decode(DeleteOptions.self, from: Data(request.body.readableBytesView)).value
            } catch {
                throw Status.badRequest("invalid DeleteOptions: \(error)")
            }
        }
        if let grace = request.query("gracePeriodSeconds").flatMap(Int64.init) { options.gracePeriodSeconds = grace }
        if let policy = request.query("propagationPolicy") { options.propagationPolicy = policy }
        if try dryRun(request) { options.dryRun = ["All"] }
        return options
    }

    func delete(_ request: APIRequest, _ target: RequestInfo, name: String, server: APIServer) async throws(Status) -> APIResponse {
        let options = try deleteOptions(request)
        return .json(200, try await delete(key(target, name: name), options: options, server: server))
    }

    /// Deletes one object as kube-apiserver does: pods on a node get a grace period, objects with finalizers
    /// are only marked (a namespace stays Terminating until the namespace controller finalizes it); then owned
    /// objects are collected.
    func delete(_ key: ObjectKey, options: DeleteOptions, server: APIServer) async throws(Status) -> ByteBuffer {
        guard let current = server.store.get(info.key, key) else { throw notFound(key.name) }
        let object = typed(current)
        if let uid = options.preconditions?.uid, uid != current.uid {
            throw Status(
                message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)",
                reason: .conflict, details: StatusDetails(name: key.name, group: info.group, kind: info.plural), code: 409)
        }
        if let rv = options.preconditions?.resourceVersion, rv != String(current.resourceVersion) {
            throw Status(
                message: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(current.resourceVersion)",
                reason: .conflict, details: StatusDetails(name: key.name, group: info.group, kind: info.plural), code: 409)
        }
        if options.dryRun != nil { return current.json }

        if let pod = object as? Pod, let marked = try await gracefulPodDeletion(pod, key: key, options: options, server: server) {
            return marked
        }
        if let namespace = object as? Namespace, !(namespace.spec.finalizers ?? []).isEmpty {
            // Terminating until the namespace controller has emptied it and finalized it.
            if object.metadata.deletionTimestamp != nil { return current.json }
            return try await write(key: key, statusOnly: false, precondition: nil, dryRun: false, server: server, admit: false) { (old: Object) throws(Status) -> Object in
                var o = old
                o.metadata.deletionTimestamp = Time.now().truncatedToSeconds
                o.metadata.deletionGracePeriodSeconds = 0
                if var ns = o as? Namespace {
                    ns.status.phase = "Terminating"
                    o = ns as! Object
                }
                return o
            }
        }
        if !(object.metadata.finalizers ?? []).isEmpty {
            // Marked, and deleted once the finalizers are removed.
            if object.metadata.deletionTimestamp != nil && object.metadata.deletionGracePeriodSeconds == 0 { return current.json }
            return try await write(key: key, statusOnly: false, precondition: nil, dryRun: false, server: server, admit: false) { (old: Object) throws(Status) -> Object in
                var o = old
                if o.metadata.deletionTimestamp == nil { o.metadata.deletionTimestamp = Time.now().truncatedToSeconds }
                o.metadata.deletionGracePeriodSeconds = 0
                return o
            }
        }
        let deleted: StoredObject
        do {
            deleted = try await server.store.delete(info.key, key, expectedUID: current.uid)
        } catch {
            throw server.status(for: error, info: info)
        }
        behaviour.afterDelete(typed(deleted))
        await server.collectGarbage(ownerUID: current.uid, namespace: key.namespace, owner: object)
        return deleted.json
    }

    /// A pod that runs on a node is first marked with a deadline; its node stops it and deletes it for good
    /// (with grace 0). An unscheduled pod, or grace 0, goes at once. Nil means: delete now.
    private func gracefulPodDeletion(_ pod: Pod, key: ObjectKey, options: DeleteOptions, server: APIServer) async throws(Status) -> ByteBuffer? {
        let grace = max(0, options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30)
        guard let node = pod.spec.nodeName, !node.isEmpty, grace > 0 else { return nil }
        if let existing = pod.metadata.deletionGracePeriodSeconds, existing <= grace, pod.metadata.deletionTimestamp != nil {
            return server.store.get(info.key, key)?.json
        }
        return try await write(key: key, statusOnly: false, precondition: nil, dryRun: false, server: server, admit: false) { (old: Object) throws(Status) -> Object in
            var o = old
            o.metadata.deletionTimestamp = Time.now().truncatedToSeconds.adding(seconds: grace)
            o.metadata.deletionGracePeriodSeconds = grace
            return o
        }
    }

    func deleteCollection(_ request: APIRequest, _ target: RequestInfo, server: APIServer) async throws(Status) -> APIResponse {
        let options = try deleteOptions(request)
        let predicate = try selectorPredicate(request)
        let matching = server.store.list(info.key, namespace: target.namespace).items.filter(predicate)
        var buffer = ByteBuffer()
        buffer.writeString(#"{"kind":"\#(info.kind)List","apiVersion":"\#(info.apiVersion)","metadata":{"resourceVersion":"\#(server.store.resourceVersion)"},"items":["#)
        var first = true
        for stored in matching {
            guard let json = try? await delete(stored.key, options: options, server: server) else { continue }
            if !first { buffer.writeString(",") }
            first = false
            buffer.writeImmutableBuffer(json)
        }
        buffer.writeString("]}")
        return .json(200, buffer)
    }
}
