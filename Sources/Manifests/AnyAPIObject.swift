import KubeAPI

/// One object of a manifest, typed by its `apiVersion` and `kind`.
public enum AnyAPIObject: Hashable, Sendable {
    case namespace(Namespace)
    case node(KubeAPI.Node)
    case pod(Pod)
    case service(Service)
    case endpoints(Endpoints)
    case endpointSlice(EndpointSlice)

    /// The kinds a manifest may hold, by `apiVersion` and `kind`.
    public static let supportedKinds: [(apiVersion: String, kind: String)] = [
        (Namespace.apiVersion, Namespace.kind), (KubeAPI.Node.apiVersion, KubeAPI.Node.kind), (Pod.apiVersion, Pod.kind),
        (Service.apiVersion, Service.kind), (Endpoints.apiVersion, Endpoints.kind),
        (EndpointSlice.apiVersion, EndpointSlice.kind),
    ]

    public var object: any APIObject {
        switch self {
        case .namespace(let o): o
        case .node(let o): o
        case .pod(let o): o
        case .service(let o): o
        case .endpoints(let o): o
        case .endpointSlice(let o): o
        }
    }

    /// `service/web`, as kubectl names objects.
    public var reference: String {
        let o = object
        return "\(type(of: o).singularResource)/\(o.name)"
    }

    /// Decodes a value tree whose `apiVersion` and `kind` name a supported kind.
    static func decode(_ value: JSONValue) throws(ManifestError) -> Decoded<AnyAPIObject> {
        guard case .object = value else {
            throw ManifestError(document: nil, message: "expected an object with apiVersion and kind, found \(value.typeName)")
        }
        guard let apiVersion = value["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw ManifestError(document: nil, message: "apiVersion is missing")
        }
        guard let kind = value["kind"]?.stringValue, !kind.isEmpty else {
            throw ManifestError(document: nil, message: "kind is missing")
        }
        do {
            switch (apiVersion, kind) {
            case (Namespace.apiVersion, Namespace.kind): return try decode(Namespace.self, value, AnyAPIObject.namespace)
            case (KubeAPI.Node.apiVersion, KubeAPI.Node.kind): return try decode(KubeAPI.Node.self, value, AnyAPIObject.node)
            case (Pod.apiVersion, Pod.kind): return try decode(Pod.self, value, AnyAPIObject.pod)
            case (Service.apiVersion, Service.kind): return try decode(Service.self, value, AnyAPIObject.service)
            case (Endpoints.apiVersion, Endpoints.kind): return try decode(Endpoints.self, value, AnyAPIObject.endpoints)
            case (EndpointSlice.apiVersion, EndpointSlice.kind):
                return try decode(EndpointSlice.self, value, AnyAPIObject.endpointSlice)
            default:
                let known = supportedKinds.map { "\($0.apiVersion) \($0.kind)" }.joined(separator: ", ")
                throw ManifestError(document: nil, message: "no kind \(BadValue.goQuote(kind)) is registered for version \(BadValue.goQuote(apiVersion)); supported: \(known)")
            }
        } catch let error as ObjectDecodingError {
            throw ManifestError(document: nil, message: "\(kind): \(error)")
        } catch let error as ManifestError {
            throw error
        } catch {
            throw ManifestError(document: nil, message: "\(error)")
        }
    }

    private static func decode<T: APIObject>(
        _ type: T.Type, _ value: JSONValue, _ wrap: (T) -> AnyAPIObject
    ) throws(ObjectDecodingError) -> Decoded<AnyAPIObject> {
        let decoded = try KubeJSON.decode(type, from: value)
        return Decoded(value: wrap(decoded.value), unknownFields: decoded.unknownFields)
    }
}
