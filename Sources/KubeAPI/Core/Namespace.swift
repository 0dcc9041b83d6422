/// A Namespace: the scope of names for namespaced objects.
public struct Namespace: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Namespace"
    public static let resource = "namespaces"
    public static let isNamespaced = false

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NamespaceSpec
    public var status: NamespaceStatus

    public init(metadata: ObjectMeta, spec: NamespaceSpec = NamespaceSpec(), status: NamespaceStatus = NamespaceStatus()) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(NamespaceSpec.self, forKey: .spec) ?? NamespaceSpec()
        status = try c.decodeIfPresent(NamespaceStatus.self, forKey: .status) ?? NamespaceStatus()
    }
}

public struct NamespaceSpec: Codable, Hashable, Sendable {
    public var finalizers: [String]?
    public init(finalizers: [String]? = nil) { self.finalizers = finalizers }
}

public struct NamespaceStatus: Codable, Hashable, Sendable {
    /// `Active` or `Terminating`.
    public var phase: String?
    public var conditions: [JSONValue]?
    public init(phase: String? = nil) { self.phase = phase }
}
