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
    /// Service ports with ClientIP session affinity, by `ClusterIP . proto . port`: they have chains of their
    /// own (and `service-ips` points there), because a pin is per client and endpoint, not per slot.
    public var affinity: [String: AffinityPort] = [:]

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
            if let timeout = p.affinityTimeout {
                let port = AffinityPort(key: key, timeout: timeout, endpoints: p.endpoints)
                affinity[key] = port
                serviceIPs[key] = "goto \(port.chain)"
                for endpoint in p.endpoints { hairpin.insert("\(endpoint.address) . \(endpoint.address)") }
                continue
            }
            let n = p.endpoints.count
            serviceIPs[key] = Self.endpointsVerdict(n)
            for (slot, endpoint) in p.endpoints.enumerated() {
                backends[n, default: [:]]["\(key) . \(slot)"] = "\(endpoint.address) . \(endpoint.port)"
                hairpin.insert("\(endpoint.address) . \(endpoint.address)")
            }
        }
    }

    /// `goto endpoints-N`, one string shared by every element with that N (30,000 copies of the same 16 bytes
    /// would be 30,000 allocations).
    static func endpointsVerdict(_ n: Int) -> String {
        n < sharedVerdicts.count ? sharedVerdicts[n] : "goto endpoints-\(n)"
    }

    private static let sharedVerdicts: [String] = (0...64).map { "goto endpoints-\($0)" }

    /// The same contents in new storage (see `IncrementalModel.compact`); verdicts that every element shares
    /// stay shared.
    var compacted: NFTablesModel {
        var copy = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: family, configuration: configuration)
        func strings(_ map: [String: String]) -> [String: String] {
            var fresh: [String: String] = [:]
            fresh.reserveCapacity(map.count)
            for (key, value) in map { fresh[key.freshCopy] = Self.shared(value) }
            return fresh
        }
        func set(_ set: Set<String>) -> Set<String> {
            var fresh = Set<String>(minimumCapacity: set.count)
            for element in set { fresh.insert(element.freshCopy) }
            return fresh
        }
        copy.clusterIPs = set(clusterIPs)
        copy.serviceIPs = strings(serviceIPs)
        copy.noEndpoints = strings(noEndpoints)
        for (n, elements) in backends { copy.backends[n] = strings(elements) }
        copy.hairpin = set(hairpin)
        for (key, port) in affinity {
            copy.affinity[key.freshCopy] = AffinityPort(
                chain: port.chain.freshCopy, transport: port.transport.freshCopy, timeout: port.timeout, endpoints: port.endpoints.map { $0 })
        }
        return copy
    }

    /// The one instance of a verdict many elements have; any other value copied.
    static func shared(_ value: String) -> String {
        if value == "goto reject-service" { return "goto reject-service" }
        if value.hasPrefix("goto endpoints-"), let n = Int(value.dropFirst("goto endpoints-".count)), n >= 0, n < sharedVerdicts.count {
            return sharedVerdicts[n]
        }
        return value.freshCopy
    }

    /// The endpoint counts that have a chain and a backends map.
    public var counts: [Int] { backends.keys.sorted() }

    /// Element counts, for metrics and logs.
    public var serviceCount: Int { serviceIPs.count + noEndpoints.count }
    public var endpointCount: Int { backends.values.reduce(0) { $0 + $1.count } + affinity.values.reduce(0) { $0 + $1.endpoints.count } }
}

/// A Service port with `sessionAffinity: ClientIP`, as kube-proxy's nftables mode programs it: a chain for the
/// port that sends a client pinned to an endpoint (its address is in that endpoint's timeout set) there, and
/// otherwise picks at random; a chain per endpoint that refreshes the client's pin and DNATs. The key is the
/// client's source IP only, so a new source port keeps the endpoint; a pin lapses `timeout` seconds after the
/// client's last new connection, and goes with its endpoint's set when the endpoint goes.
public struct AffinityPort: Sendable, Hashable {
    /// The port's chain, named after a hash of its `ClusterIP . proto . port` so that it is stable.
    public var chain: String
    /// `tcp`, `udp` or `sctp`: the DNAT to a port needs the protocol.
    public var transport: String
    public var timeout: Int
    public var endpoints: [EndpointTarget]

    /// - Parameter key: `ClusterIP . proto . port`.
    public init(key: String, timeout: Int, endpoints: [EndpointTarget]) {
        let parts = key.split(separator: " . ")
        self.init(chain: "affinity-" + Self.hash(key), transport: parts.count == 3 ? String(parts[1]) : "tcp", timeout: timeout, endpoints: endpoints)
    }

    init(chain: String, transport: String, timeout: Int, endpoints: [EndpointTarget]) {
        self.chain = chain
        self.transport = transport
        self.timeout = timeout
        self.endpoints = endpoints
    }

    /// The endpoint's chain and its set of pinned clients (sets and chains have separate names in nftables).
    public func endpointChain(_ endpoint: EndpointTarget) -> String { "\(chain)-" + Self.hash("\(endpoint.address) \(endpoint.port)") }

    static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash & 0xffff_ffff, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
