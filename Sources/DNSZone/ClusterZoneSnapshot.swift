import IPAM
import KubeAPI

/// The cluster DNS zone at one moment: what CoreDNS's `kubernetes` plugin answers, computed once from Services,
/// EndpointSlices and (for pod records) Pods, then read by any number of threads. Immutable; rebuild it on change
/// and swap the reference.
///
/// It answers for:
/// - names under the cluster domain (schema 1.1.0 of the Kubernetes DNS specification, plus the CoreDNS
///   behaviours `ZoneOptions` switches), and
/// - the reverse names (`in-addr.arpa`, `ip6.arpa`) of the addresses it publishes: ClusterIPs and the endpoints
///   it names. Spec §2.3.3/§2.4.3 (rows B11, B12, C9, C10) require those PTRs; for every other reverse name it
///   says `.notInZone`, so the server forwards it, which is what kubeadm's CoreDNS does with
///   `fallthrough in-addr.arpa ip6.arpa` (row E13). A PTR name answered here gets `.notInZone` for types other
///   than PTR and ANY for the same reason: CoreDNS falls those through too, and answering NODATA would need an SOA
///   for a reverse zone we do not hold.
public final class ClusterZoneSnapshot: Sendable {
    public let options: ZoneOptions
    /// The zone's SOA (owner: the cluster domain), for AUTHORITY in `.noData` and `.nxdomain` answers. Its TTL is
    /// min(ttl, 300) and its MINIMUM the TTL, as CoreDNS sets them.
    public let soa: ZoneRecord
    /// The apex NS record: `ns.dns.<zone>`.
    public let nameserver: ZoneRecord
    /// `ns.dns.<zone>`, the owner of the glue.
    let nameserverName: String

    let zone: [UInt8]
    let zoneName: String
    let ttl: UInt32
    let names: NameTable
    let services: [ServiceEntry]
    let ports: [PortEntry]
    let endpoints: [EndpointEntry]
    /// Every name key's bytes; SRV and PTR targets are made from them.
    var nameBytes: [UInt8] { names.bytes }
    let reverse: ReverseIndex
    let podAddresses: Set<PodAddressKey>
    let glue4: [IPv4Address]
    let glue6: [IPv6Address]

    init(options: ZoneOptions, builder b: consuming ZoneBuilder) {
        self.options = options
        zoneName = options.zone
        zone = Array(zoneName.utf8)
        ttl = options.effectiveTTL
        soa = ZoneRecord(
            name: zoneName, ttl: min(ttl, 300),
            data: .soa(ZoneSOA(
                mname: options.soaMname, rname: options.soaRname, serial: options.serial, refresh: options.refresh,
                retry: options.retry, expire: options.expire, minimum: ttl)))
        nameserverName = options.soaMname
        nameserver = ZoneRecord(name: zoneName, ttl: ttl, data: .ns(nameserverName))
        // A copy the exact size: the buffer grew by doubling.
        names = NameTable(bytes: Array(b.bytes[...]), keys: b.keys)
        services = b.services
        ports = b.ports
        endpoints = b.endpoints
        reverse = ReverseIndex(v4: b.reverse4, v6: b.reverse6)
        podAddresses = b.podAddresses
        glue4 = b.glue4
        glue6 = b.glue6
    }

    /// Builds the zone. Objects the zone cannot name are skipped: nameless or namespace-less objects, names that
    /// are not DNS labels, ClusterIP Services without a parsable ClusterIP yet, EndpointSlices without the
    /// `kubernetes.io/service-name` label or of address type FQDN, addresses of the wrong family for their slice.
    ///
    /// - Parameters:
    ///   - services: every Service.
    ///   - endpointSlices: every EndpointSlice. Only ready endpoints count (`conditions.ready` nil is ready), or
    ///     every endpoint of a Service with `publishNotReadyAddresses`; an address in several slices of a Service
    ///     counts once (the first by slice name).
    ///   - pods: read for pod records in `.verified` mode (the pods' IPs), and for which namespaces exist.
    ///   - namespaces: names of namespaces known to exist (Namespace objects), so that `<ns>.svc.<zone>` of a
    ///     namespace without Services is NODATA rather than NXDOMAIN, as in CoreDNS (row E3). Namespaces holding
    ///     a Service or a Pod exist anyway.
    public static func build(
        services: [Service], endpointSlices: [EndpointSlice], pods: [Pod] = [], namespaces: [String] = [],
        options: ZoneOptions = ZoneOptions()
    ) -> ClusterZoneSnapshot {
        var builder = ZoneBuilder(options: options)
        for namespace in namespaces { _ = builder.namespace(asciiLowercased(namespace)) }
        builder.add(services: services, slices: endpointSlices)
        builder.add(pods: pods)
        return ClusterZoneSnapshot(options: options, builder: builder)
    }

    /// Services in the zone.
    public var serviceCount: Int { services.count }
    /// Endpoint addresses the zone names.
    public var endpointCount: Int { endpoints.count }
    /// Entries of the name dictionary (namespaces twice: `.svc` and `.pod`).
    public var nameCount: Int { names.count }
    /// Addresses with a PTR record.
    public var reverseCount: Int { reverse.count }

    /// Bytes the snapshot's tables hold (array capacities; not the few strings that live on the heap: long port
    /// names and ExternalName targets). For a memory budget, count two snapshots while one replaces the other.
    public var storageBytes: Int {
        func size<T>(_ array: [T]) -> Int { array.capacity * MemoryLayout<T>.stride }
        return size(names.slots) + size(names.entries) + size(names.bytes) + size(services) + size(ports) + size(endpoints)
            + size(reverse.v4) + size(reverse.v6) + podAddresses.capacity * (MemoryLayout<PodAddressKey>.stride + 1)
    }
}
