import ClusterStore
import KubeAPI
import NIOCore

extension TypedResource {
    /// `PUT /api/v1/namespaces/NAME/finalize`: replaces only spec.finalizers, which the namespace controller
    /// empties once the namespace holds nothing; a terminating namespace with no finalizers left goes.
    func finalize(_ request: APIRequest, _ target: RequestInfo, name: String, server: APIServer) async throws(Status) -> APIResponse {
        let (value, duplicates) = try parseBody(request)
        let (object, _) = try decodeBody(value, request: request, duplicates: duplicates)
        guard let body = object as? Namespace else { throw Status.badRequest("finalize takes a Namespace") }
        if let bodyName = body.metadata.name, bodyName != name {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        var errors: [FieldError] = []
        for (index, finalizer) in (body.spec.finalizers ?? []).enumerated() {
            let path = FieldPath("spec").child("finalizers").index(index)
            for message in NameValidation.qualifiedName(finalizer) {
                errors.append(FieldError.invalid(path, .string(finalizer), message))
            }
        }
        if !errors.isEmpty { throw Status.invalid(kind: info.kind, group: info.group, name: name, errors: errors) }
        let precondition = body.metadata.resourceVersion.flatMap { $0.isEmpty ? nil : $0 }
        let dry = try dryRun(request)
        let finalizers = body.spec.finalizers
        let json = try await write(
            key: key(target, name: name), statusOnly: false, precondition: precondition, dryRun: dry,
            server: server, admit: false
        ) { (old: Object) throws(Status) -> Object in
            guard var namespace = old as? Namespace else { return old }
            namespace.spec.finalizers = finalizers
            return namespace as! Object
        }
        return .json(200, json)
    }
}
