#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterStore
import KubeAPI
import Manifests
import NIOCore

/// How many times an unconditional write retries after losing a race to another writer.
let conflictRetries = 10

extension TypedResource {
    // MARK: Decoding bodies

    /// The request body as an `Object`, under `fieldValidation` (Strict rejects unknown and duplicate fields,
    /// Warn returns them as warnings, Ignore drops them). kubectl sends Strict.
    func decodeBody(_ value: JSONValue, request: APIRequest, duplicates: [String] = []) throws(Status) -> (Object, warnings: [String]) {
        let decoded: Decoded<Object>
        do {
            decoded = try KubeJSON.decode(Object.self, from: value)
        } catch {
            throw Status.badRequest("\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): \(error)")
        }
        if let kind = value["kind"]?.stringValue, !kind.isEmpty, kind != info.kind {
            throw Status.badRequest("the object provided is unrecognized (must be of type \(info.kind)): \(kind)")
        }
        if let apiVersion = value["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != info.apiVersion {
            throw Status.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(info.apiVersion))")
        }
        var all = decoded
        all.duplicateFields = duplicates
        let problems = all.strictErrors
        switch request.query("fieldValidation") ?? "Warn" {
        case "Strict" where !problems.isEmpty:
            throw Status.badRequest(
                "\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): strict decoding error: "
                    + problems.joined(separator: ", "))
        case "Ignore":
            return (decoded.value, [])
        default:
            return (decoded.value, problems)
        }
    }

    func parseBody(_ request: APIRequest) throws(Status) -> (JSONValue, duplicates: [String]) {
        let contentType = request.header("content-type") ?? "application/json"
        if contentType.hasPrefix("application/vnd.kubernetes.protobuf") {
            // kubectl's typed commands (create namespace, run, create service) send protobuf; upstream's
            // answer to a media type it cannot read is this 415.
            throw Status(
                message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf bodies, which kubectl create and kubectl run send, are not supported yet: use kubectl apply -f)",
                reason: .unsupportedMediaType, details: StatusDetails(), code: 415)
        }
        if contentType.hasPrefix("application/yaml") {
            do {
                guard let document = try YAMLValue.documents(String(buffer: request.body)).first else {
                    throw Status.badRequest("the request body is empty")
                }
                return (document, [])
            } catch let status as Status {
                throw status
            } catch {
                throw Status.badRequest("\(error)")
            }
        }
        do {
            return try KubeJSON.parseReportingDuplicates(Data(request.body.readableBytesView))
        } catch {
            throw Status.badRequest("\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): \(error)")
        }
    }

    func dryRun(_ request: APIRequest) throws(Status) -> Bool {
        guard let value = request.query("dryRun") else { return false }
        guard value == "All" else { throw Status.badRequest("Invalid dry run value: \(value), supported values: All") }
        return true
    }

    static func warningHeaders(_ warnings: [String]) -> [(name: String, value: String)] {
        warnings.map { ("Warning", "299 - \(BadValue.goQuote($0))") }
    }

    // MARK: Create

    func create(_ request: APIRequest, _ target: RequestInfo, server: APIServer) async throws(Status) -> APIResponse {
        if info.namespaced && target.namespace == nil {
            throw Status(message: "the server does not allow this method on the requested resource", reason: .methodNotAllowed, code: 405)
        }
        let (value, duplicates) = try parseBody(request)
        let (object, warnings) = try decodeBody(value, request: request, duplicates: duplicates)
        let json = try await create(object, namespace: target.namespace, dryRun: try dryRun(request), server: server)
        return .json(201, json, headers: Self.warningHeaders(warnings))
    }

    /// Creates `object`: namespace checks, generated names, system metadata, admission, storage.
    @discardableResult
    func create(_ object: Object, namespace: String?, dryRun: Bool, server: APIServer) async throws(Status) -> ByteBuffer {
        var o = object
        if info.namespaced {
            let ns = namespace ?? o.metadata.namespace ?? ""
            if let own = o.metadata.namespace, !own.isEmpty, own != ns {
                throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            o.metadata.namespace = ns
            try server.checkNamespaceAcceptsNewObjects(ns)
        } else {
            o.metadata.namespace = nil
        }
        if let rv = o.metadata.resourceVersion, !rv.isEmpty {
            throw Status.badRequest("resourceVersion should not be set on objects to be created")
        }
        let generated = (o.metadata.name ?? "").isEmpty && !(o.metadata.generateName ?? "").isEmpty
        o.metadata.uid = ObjectUID.make()
        o.metadata.creationTimestamp = Time.now().truncatedToSeconds
        o.metadata.deletionTimestamp = nil
        o.metadata.deletionGracePeriodSeconds = nil
        for attempt in 0..<5 {
            if generated { o.metadata.name = server.generateName(o.metadata.generateName!) }
            let admission = try behaviour.admitCreate(o, dryRun)
            if dryRun {
                admission.revert()
                return try encode(admission.object)
            }
            do {
                let stored = try await server.store.create(info.key, admission.object)
                admission.commit()
                return stored.json
            } catch {
                admission.revert()
                if case .alreadyExists = error, generated, attempt < 4 { continue }
                throw server.status(for: error, info: info)
            }
        }
        throw Status.internalError("could not generate a unique name")
    }

    func encode(_ object: Object) throws(Status) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try KubeJSON.encode(object.withTypeMeta()))
        } catch {
            throw Status.internalError("\(error)")
        }
    }

    // MARK: Update

    func update(_ request: APIRequest, _ target: RequestInfo, name: String, statusOnly: Bool, server: APIServer) async throws(Status) -> APIResponse {
        let (value, duplicates) = try parseBody(request)
        let (object, warnings) = try decodeBody(value, request: request, duplicates: duplicates)
        if let bodyName = object.metadata.name, bodyName != name {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if info.namespaced, let own = object.metadata.namespace, !own.isEmpty, own != target.namespace {
            throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let dry = try dryRun(request)
        let key = key(target, name: name)
        if server.store.currentForWrite(info.key, key) == nil && !statusOnly && info.allowCreateOnUpdate {
            var o = object
            o.metadata.name = name
            let json = try await create(o, namespace: target.namespace, dryRun: dry, server: server)
            return .json(201, json, headers: Self.warningHeaders(warnings))
        }
        let precondition = object.metadata.resourceVersion.flatMap { $0.isEmpty ? nil : $0 }
        let json = try await write(key: key, statusOnly: statusOnly, precondition: precondition, dryRun: dry, server: server) { _ in object }
        return .json(200, json, headers: Self.warningHeaders(warnings))
    }

    /// An object marked for deletion whose finalizers are all gone and whose grace period is over (a pod on a
    /// node waits for its kubelet's final delete; a namespace also for its spec.finalizers).
    static func isReadyToGo(_ object: any APIObject) -> Bool {
        guard object.metadata.deletionTimestamp != nil, (object.metadata.finalizers ?? []).isEmpty,
            (object.metadata.deletionGracePeriodSeconds ?? 0) == 0
        else { return false }
        if let namespace = object as? Namespace { return (namespace.spec.finalizers ?? []).isEmpty }
        return true
    }

    /// Read-modify-write of one object: `change` builds the new object from the current one; admission,
    /// storage, and retries when another writer got there first (unless the client named a resourceVersion).
    func write(
        key: ObjectKey, statusOnly: Bool, precondition: String?, dryRun: Bool, server: APIServer,
        admit: Bool = true, change: (Object) throws(Status) -> Object
    ) async throws(Status) -> ByteBuffer {
        for _ in 0..<conflictRetries {
            guard let current = server.store.currentForWrite(info.key, key) else { throw notFound(key.name) }
            let old = typed(current)
            if let precondition, precondition != String(current.resourceVersion) {
                throw server.status(for: .conflict(info.key, key), info: info)
            }
            var o = try change(old)
            if let uid = o.metadata.uid, !uid.isEmpty, uid != old.metadata.uid {
                throw Status.invalid(kind: info.kind, group: info.group, name: key.name, errors: [
                    .invalid(FieldPath("metadata").child("uid"), .string(uid), "field is immutable")
                ])
            }
            o.metadata.name = old.metadata.name
            o.metadata.namespace = old.metadata.namespace
            o.metadata.uid = old.metadata.uid
            o.metadata.creationTimestamp = old.metadata.creationTimestamp
            if admit {
                // Clients cannot set these; the server's own writes (deletion, admit: false) do.
                o.metadata.deletionTimestamp = old.metadata.deletionTimestamp
                o.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
            }
            o.metadata.resourceVersion = old.metadata.resourceVersion
            if o.metadata.generateName == nil { o.metadata.generateName = old.metadata.generateName }
            if statusOnly {
                var merged = old
                behaviour.copyStatus(o, &merged)
                o = merged
            } else {
                behaviour.copyStatus(old, &o)
                if admit { behaviour.prepareForUpdate(&o, old) }
            }
            if o.metadata.managedFields == nil { o.metadata.managedFields = old.metadata.managedFields }
            let admission = admit ? try behaviour.admitUpdate(o, old, dryRun) : Admission(object: o)
            let new = admission.object
            if new == old || dryRun {
                // Nothing changes (upstream does not bump the resourceVersion of a no-op), or a dry run.
                admission.revert()
                return new == old ? current.json : try encode(new)
            }
            do {
                let stored = try await server.store.update(info.key, new, expectedResourceVersion: current.resourceVersion)
                admission.commit()
                if Self.isReadyToGo(stored.object) {
                    // The last finalizer is gone from an object being deleted: it goes now.
                    _ = try? await server.store.delete(info.key, key, expectedUID: stored.uid)
                    behaviour.afterDelete(typed(stored))
                    await server.collectGarbage(ownerUID: stored.uid, namespace: key.namespace, owner: stored.object)
                }
                return stored.json
            } catch {
                admission.revert()
                if case .conflict = error, precondition == nil { continue }
                throw server.status(for: error, info: info)
            }
        }
        throw server.status(for: .conflict(info.key, key), info: info)
    }

    // MARK: Patch

    func patch(_ request: APIRequest, _ target: RequestInfo, name: String, statusOnly: Bool, server: APIServer) async throws(Status) -> APIResponse {
        let contentType = (request.header("content-type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        let key = key(target, name: name)
        let dry = try dryRun(request)
        var warnings: [String] = []
        let patch: JSONValue
        switch contentType {
        case "application/apply-patch+yaml":
            guard let manager = request.query("fieldManager"), !manager.isEmpty else {
                throw Status.badRequest("PATCH, application/apply-patch+yaml requests must have a fieldManager (the fieldManager query parameter is required for apply requests)")
            }
            do {
                guard let document = try YAMLValue.documents(String(buffer: request.body)).first else {
                    throw Status.badRequest("the apply configuration is empty")
                }
                patch = document
            } catch let status as Status {
                throw status
            } catch {
                throw Status.badRequest("error decoding YAML: \(error)")
            }
            if server.store.currentForWrite(info.key, key) == nil {
                let applied = try serverSideApply(patch, to: nil, manager: manager, request: request)
                var (object, w) = try decodeBody(applied, request: request)
                object.metadata.name = name
                let json = try await create(object, namespace: target.namespace, dryRun: dry, server: server)
                return .json(201, json, headers: Self.warningHeaders(w))
            }
        case "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json":
            do {
                patch = try KubeJSON.parse(Data(request.body.readableBytesView))
            } catch {
                throw Status.badRequest("error decoding patch: \(error)")
            }
        default:
            throw Status(
                message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
                reason: .unsupportedMediaType, code: 415)
        }
        let manager = request.query("fieldManager")
        let json = try await write(key: key, statusOnly: statusOnly, precondition: nil, dryRun: dry, server: server) { old throws(Status) in
            let current: JSONValue
            do {
                current = try KubeJSON.value(of: old)
            } catch {
                throw Status.internalError("\(error)")
            }
            var patched: JSONValue = current
            if contentType == "application/apply-patch+yaml" {
                patched = try serverSideApply(patch, to: current, manager: manager ?? "", request: request)
            } else {
                do throws(PatchError) {
                    switch contentType {
                    case "application/json-patch+json": patched = try JSONPatch.apply(patch, to: current)
                    case "application/merge-patch+json": patched = JSONMergePatch.apply(patch, to: current)
                    default: patched = try StrategicMergePatch.apply(patch, to: current, schema: behaviour.patchSchema)
                    }
                } catch {
                    throw error.malformed ? Status.badRequest(error.message)
                        : Status(message: error.message, reason: .invalid, code: 422)
                }
            }
            if patched["metadata"]?["resourceVersion"] != current["metadata"]?["resourceVersion"] {
                throw server.status(for: .conflict(info.key, key), info: info)
            }
            let (object, w) = try decodeBody(patched, request: request)
            warnings = w
            return object
        }
        return .json(200, json, headers: Self.warningHeaders(warnings))
    }

    /// The structured-merge-diff shapes of this kind's lists and maps.
    var applySchema: ApplySchema {
        switch Object.self {
        case is Service.Type: .service
        case is Pod.Type: .pod
        case is Node.Type: .node
        default: .metadataOnly
        }
    }

    /// Server-side apply of `configuration` by `manager`; conflicts with other appliers are a 409 listing
    /// them, as upstream (unless `force=true`).
    func serverSideApply(_ configuration: JSONValue, to live: JSONValue?, manager: String, request: APIRequest) throws(Status) -> JSONValue {
        let outcome = ServerSideApply.apply(
            configuration, to: live, manager: manager, force: request.flag("force"), schema: applySchema,
            apiVersion: info.apiVersion, time: Time.now().rfc3339)
        switch outcome {
        case .success(let result):
            return result.object
        case .failure(let error):
            throw Status(
                message: error.description, reason: .conflict,
                details: StatusDetails(
                    causes: error.conflicts.map {
                        StatusCause(reason: "FieldManagerConflict", message: "conflict with \"\($0.manager)\"", field: $0.field)
                    }),
                code: 409)
        }
    }

    // MARK: Binding (the scheduler's write)

    func bind(_ request: APIRequest, _ target: RequestInfo, name: String, server: APIServer) async throws(Status) -> APIResponse {
        let (value, _) = try parseBody(request)
        guard let node = value["target"]?["name"]?.stringValue, !node.isEmpty else {
            throw Status.invalid(kind: "Binding", name: name, errors: [.required(FieldPath("target").child("name"))])
        }
        // The binding is the one write that may set spec.nodeName, so it skips pod update validation.
        _ = try await write(key: key(target, name: name), statusOnly: false, precondition: nil, dryRun: false, server: server, admit: false) { old throws(Status) in
            guard var pod = old as? Pod else { throw Status.internalError("binding a non-pod") }
            if let bound = pod.spec.nodeName, !bound.isEmpty {
                throw Status(
                    message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is already assigned to node \"\(bound)\"",
                    reason: .conflict, code: 409)
            }
            pod.spec.nodeName = node
            return pod as! Object
        }
        return .json(201, ByteBuffer(string: #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}"#))
    }
}
