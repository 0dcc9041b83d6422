import IPAM

/// The contents of one family's table as elements of its sets and maps: what changes when Services and
/// endpoints change. Chains and rules are fixed by the configuration and the endpoint counts in use, so a
/// change of Services is a change of elements, and a partial sync sends only the difference.
public struct NFTablesModel: Sendable, Hashable {
    public var family: IPFamily
    public var configuration: ProxyConfiguration
    /// ClusterIPs in use.
    public var clusterIPs: Set<String> = []
    /// `ClusterIP . proto . port` → `goto endpoints-N`.
    public var serviceIPs: [String: String] = [:]
    /// `ClusterIP . proto . port` → `goto reject-service` or `drop`.
    public var noEndpoints: [String: String] = [:]
    /// Per endpoint count N: `ClusterIP . proto . port . slot` → `endpoint . port`.
    public var backends: [Int: [String: String]] = [:]
    /// `endpoint . endpoint` for every endpoint (hairpin masquerade).
    public var hairpin: Set<String> = []

    public init(_ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration) {
        self.family = family
        self.configuration = configuration
        for p in state.servicePorts where p.clusterIP.family == family {
            let key = "\(p.clusterIP) . \(p.transport) . \(p.port)"
            clusterIPs.insert(p.clusterIP.description)
            if p.endpoints.isEmpty {
                noEndpoints[key] = p.dropWhenEmpty ? "drop" : "goto reject-service"
                continue
            }
            let n = p.endpoints.count
            serviceIPs[key] = "goto endpoints-\(n)"
            for (slot, endpoint) in p.endpoints.enumerated() {
                backends[n, default: [:]]["\(key) . \(slot)"] = "\(endpoint.address) . \(endpoint.port)"
                hairpin.insert("\(endpoint.address) . \(endpoint.address)")
            }
        }
    }

    /// The endpoint counts that have a chain and a backends map.
    public var counts: [Int] { backends.keys.sorted() }

    /// Element counts, for metrics and logs.
    public var serviceCount: Int { serviceIPs.count + noEndpoints.count }
    public var endpointCount: Int { backends.values.reduce(0) { $0 + $1.count } }
}
