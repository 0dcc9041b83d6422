import IPAM

/// How the legacy pod records `a-b-c-d.<ns>.pod.<zone>` are answered: CoreDNS's `pods` option.
///
/// Schema 1.1.0 removed these records, but kubeadm's Corefile enables `pods insecure`, so real workloads use them.
public enum PodsMode: Sendable, Hashable {
    /// No pod records (CoreDNS's default): every name below `<ns>.pod.<zone>` is NXDOMAIN.
    case disabled
    /// Any IP-shaped label answers with that IP in any namespace that exists, without checking that such a pod
    /// exists (kubeadm's default; it lets anyone mint a cluster name for any address, hence the name).
    case insecure
    /// Only the IPs of pods in that namespace answer; costs a watch on every pod.
    case verified
}

/// How a snapshot serves the cluster zone. The defaults are CoreDNS's `kubernetes` plugin as kubeadm configures it
/// (`ttl 30`), except `pods`, which stays `disabled` as in CoreDNS itself.
public struct ZoneOptions: Sendable, Hashable {
    /// The cluster domain; case and a trailing dot are ignored.
    public var clusterDomain: String
    /// TTL of every in-zone record (except `dns-version`) and the SOA MINIMUM; clamped to CoreDNS's 0...3600.
    public var ttl: UInt32
    public var podsMode: PodsMode
    /// The SOA serial. CoreDNS uses the Unix time of the last API change; this module reads no clock, so whoever
    /// rebuilds the snapshot on a change sets it (anything that grows will do: nothing transfers this zone).
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// Answer SRV at `<svc>.<ns>.svc.<zone>` itself, one record per port (COMPAT, reference row B13; CoreDNS does).
    public var serviceNameSRV: Bool
    /// Endpoint names `<endpoint>.<svc>.<ns>.svc.<zone>` and their PTRs for ClusterIP Services too, not only for
    /// headless ones (COMPAT, rows B15 and C11; CoreDNS does). Costs memory per endpoint of every Service.
    public var clusterIPEndpointNames: Bool
    /// Name an endpoint without `hostname` after its pod (`targetRef.name`, if it is a valid label) instead of its
    /// dashed IP: CoreDNS's `endpoint_pod_names` (row C5).
    public var endpointPodNames: Bool
    /// NXDOMAIN for ClusterIP Services with no ready endpoint, so that a client's search path moves on: CoreDNS's
    /// `ignore empty_service` (the exception noted at row B10). Off: spec §2.3 gives every ClusterIP a record.
    public var ignoreEmptyServices: Bool
    /// `namespace/name` of the Service the cluster DNS server runs behind; its ClusterIPs are the glue of the apex
    /// NS record `ns.dns.<zone>` (COMPAT, row E7). Nil or not found: only `nameserverAddresses`.
    public var nameserverService: String?
    /// More glue addresses for `ns.dns.<zone>`.
    public var nameserverAddresses: [IPAddress]

    public init(
        clusterDomain: String = "cluster.local", ttl: UInt32 = 30, podsMode: PodsMode = .disabled, serial: UInt32 = 1,
        refresh: UInt32 = 7200, retry: UInt32 = 1800, expire: UInt32 = 86400, serviceNameSRV: Bool = true,
        clusterIPEndpointNames: Bool = true, endpointPodNames: Bool = false, ignoreEmptyServices: Bool = false,
        nameserverService: String? = "kube-system/kube-dns", nameserverAddresses: [IPAddress] = []
    ) {
        self.clusterDomain = clusterDomain
        self.ttl = ttl
        self.podsMode = podsMode
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.serviceNameSRV = serviceNameSRV
        self.clusterIPEndpointNames = clusterIPEndpointNames
        self.endpointPodNames = endpointPodNames
        self.ignoreEmptyServices = ignoreEmptyServices
        self.nameserverService = nameserverService
        self.nameserverAddresses = nameserverAddresses
    }

    /// The cluster domain as the snapshot matches it: lowercase, no trailing dot.
    public var zone: String {
        var text = asciiLowercased(clusterDomain)
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The TTL records carry: `ttl` within CoreDNS's bounds.
    public var effectiveTTL: UInt32 { min(ttl, 3600) }

    /// SOA MNAME, as CoreDNS names it.
    public var soaMname: String { "ns.dns." + zone }

    /// SOA RNAME (the mailbox `hostmaster@<zone>`), as CoreDNS names it.
    public var soaRname: String { "hostmaster." + zone }
}

/// TTL of `dns-version.<zone>`: CoreDNS hard-codes it and the spec's example shows it.
let dnsVersionTTL: UInt32 = 28800

/// The schema version the snapshot implements (`dns-version.<zone>` TXT).
public let dnsSchemaVersion = "1.1.0"

/// Kubernetes names are ASCII; only allocate when there is something to change.
func asciiLowercased(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
    return String(decoding: text.utf8.map(lowercasedASCII), as: UTF8.self)
}

@inline(__always)
func lowercasedASCII(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}
