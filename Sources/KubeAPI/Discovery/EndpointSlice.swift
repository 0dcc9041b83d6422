/// A slice of a Service's endpoints (`discovery.k8s.io/v1`): up to 100 (by default) endpoints of one address type
/// that share one list of ports. The proxy and DNS read these.
public struct EndpointSlice: APIObject {
    public static let apiVersion = "discovery.k8s.io/v1"
    public static let kind = "EndpointSlice"
    public static let resource = "endpointslices"
    public static let isNamespaced = true

    /// Label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// Label naming the controller that manages a slice.
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    /// The value of `managedByLabel` for slices of the EndpointSlice controller.
    public static let controllerName = "endpointslice-controller.k8s.io"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var addressType: AddressType
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]?

    public init(metadata: ObjectMeta, addressType: AddressType, endpoints: [Endpoint] = [], ports: [EndpointPort]? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        addressType = try c.decodeIfPresent(AddressType.self, forKey: .addressType) ?? ""
        endpoints = try c.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        ports = try c.decodeIfPresent([EndpointPort].self, forKey: .ports)
    }
}

/// One backend of a Service: a pod's addresses and whether traffic should go to it.
public struct Endpoint: Codable, Hashable, Sendable {
    public var addresses: [String]
    public var conditions: EndpointConditions
    public var hostname: String?
    public var targetRef: ObjectReference?
    public var deprecatedTopology: [String: String]?
    public var nodeName: String?
    public var zone: String?
    public var hints: EndpointHints?

    public init(
        addresses: [String], conditions: EndpointConditions = EndpointConditions(), hostname: String? = nil,
        targetRef: ObjectReference? = nil, nodeName: String? = nil, zone: String? = nil
    ) {
        self.addresses = addresses
        self.conditions = conditions
        self.hostname = hostname
        self.targetRef = targetRef
        self.nodeName = nodeName
        self.zone = zone
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addresses = try c.decodeIfPresent([String].self, forKey: .addresses) ?? []
        conditions = try c.decodeIfPresent(EndpointConditions.self, forKey: .conditions) ?? EndpointConditions()
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname)
        targetRef = try c.decodeIfPresent(ObjectReference.self, forKey: .targetRef)
        deprecatedTopology = try c.decodeIfPresent([String: String].self, forKey: .deprecatedTopology)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        zone = try c.decodeIfPresent(String.self, forKey: .zone)
        hints = try c.decodeIfPresent(EndpointHints.self, forKey: .hints)
    }
}

/// Readiness of an endpoint. `nil` is read as true for `ready` and `serving`, false for `terminating`.
public struct EndpointConditions: Codable, Hashable, Sendable {
    /// Should receive new traffic: serving and not terminating (or publishNotReadyAddresses).
    public var ready: Bool?
    /// Passing readiness, whether terminating or not.
    public var serving: Bool?
    /// Being deleted.
    public var terminating: Bool?

    public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }

    public var isReady: Bool { ready ?? true }
    public var isServing: Bool { serving ?? true }
    public var isTerminating: Bool { terminating ?? false }
}

public struct EndpointHints: Codable, Hashable, Sendable {
    public var forZones: [ForZone]?
    public var forNodes: [ForNode]?
    public init(forZones: [ForZone]? = nil, forNodes: [ForNode]? = nil) {
        self.forZones = forZones
        self.forNodes = forNodes
    }
}

public struct ForZone: Codable, Hashable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct ForNode: Codable, Hashable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

extension EndpointSlice {
    /// `endpoints.kubernetes.io/last-change-trigger-time`: when the change that led to this write happened
    /// (RFC 3339 with nanoseconds); consumers measure their programming latency from it.
    public static let lastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

    /// The slice's last-change-trigger-time annotation, if it has one.
    public var lastChangeTriggerTime: String? { metadata.annotations?[Self.lastChangeTriggerTimeAnnotation] }
}
