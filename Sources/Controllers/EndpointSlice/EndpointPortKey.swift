import KubeAPI

/// A slice's port list in canonical order. Pods whose Service ports resolve to the same list share slices; pods
/// that resolve differently (a named port that is 8080 on one and 9090 on another) never share one.
///
/// Upstream orders ports by an opaque hash; ours is documented instead: by name, protocol, number, then
/// appProtocol (absent first). Order never matters for grouping, only for how slices are written.
public struct EndpointPortKey: Hashable, Sendable, Comparable {
    public let ports: [EndpointPort]

    public init(_ ports: [EndpointPort]) {
        self.ports = ports.count > 1 ? ports.sorted(by: EndpointPortKey.portOrder) : ports
    }

    static func portOrder(_ a: EndpointPort, _ b: EndpointPort) -> Bool {
        if (a.name ?? "") != (b.name ?? "") { return (a.name ?? "") < (b.name ?? "") }
        if (a.protocol?.rawValue ?? "") != (b.protocol?.rawValue ?? "") {
            return (a.protocol?.rawValue ?? "") < (b.protocol?.rawValue ?? "")
        }
        if (a.port ?? 0) != (b.port ?? 0) { return (a.port ?? 0) < (b.port ?? 0) }
        switch (a.appProtocol, b.appProtocol) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return x < y
        }
    }

    public static func < (a: EndpointPortKey, b: EndpointPortKey) -> Bool {
        for (x, y) in zip(a.ports, b.ports) where x != y { return portOrder(x, y) }
        return a.ports.count < b.ports.count
    }
}

/// What makes two endpoints "the same endpoint" across syncs: addresses, hostname and the pod's namespace and
/// name. Everything else (conditions, node, zone, UID) can change in place.
///
/// Built for speed: with one address (the usual case) it holds only short strings, which Swift stores inline,
/// so creating, hashing and dropping identities touches no reference counts.
struct EndpointIdentity: Hashable {
    var firstAddress: String
    /// The other addresses in sorted order, only when there are several.
    var otherAddresses: [String]?
    var hostname: String
    var namespace: String
    var name: String

    init(_ endpoint: borrowing Endpoint) {
        if endpoint.addresses.count > 1 {
            let sorted = endpoint.addresses.sorted()
            firstAddress = sorted[0]
            otherAddresses = Array(sorted.dropFirst())
        } else {
            firstAddress = endpoint.addresses.first ?? ""
            otherAddresses = nil
        }
        hostname = endpoint.hostname ?? ""
        namespace = endpoint.targetRef?.namespace ?? ""
        name = endpoint.targetRef?.name ?? ""
    }

    // The pod's name and first address spread identities well enough; equality still compares everything.
    func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(firstAddress)
    }
}

extension Endpoint {
    /// Upstream's `EndpointsEqualBeyondHash`: equal node, zone, conditions and target (ignoring its
    /// resourceVersion). Hints are not compared; they are handled separately.
    func equalBeyondIdentity(_ other: borrowing Endpoint) -> Bool {
        guard nodeName == other.nodeName, zone == other.zone, conditions == other.conditions else { return false }
        switch (targetRef, other.targetRef) {
        case (nil, nil): return true
        case (let a?, let b?):
            return a.kind == b.kind && a.namespace == b.namespace && a.name == b.name && a.uid == b.uid
                && a.apiVersion == b.apiVersion && a.fieldPath == b.fieldPath
        default: return false
        }
    }
}
