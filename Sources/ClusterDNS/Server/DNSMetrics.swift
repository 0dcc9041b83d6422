import DNSWire
import Metrics

/// The DNS server's instruments, created once: a counter lookup per query would cost more than the answer.
public struct DNSMetrics: Sendable {
    static let types: [DNSRecordType] = [.a, .aaaa, .srv, .ptr, .txt, .cname, .soa, .ns, .any, .mx]
    static let rcodes: [DNSResponseCode] = [.noError, .formErr, .servFail, .nxDomain, .notImp, .refused, .badVers]

    let requests: [UInt16: Counter]
    let otherRequests: Counter
    let responses: [UInt16: Counter]
    let otherResponses: Counter
    let duration: Metrics.Timer
    public let cacheHits: Counter
    public let cacheMisses: Counter
    public let snapshotAge: Gauge
    public let snapshotServices: Gauge
    public let snapshotEndpoints: Gauge
    public let snapshotBuild: Metrics.Timer
    /// CoreDNS's `dns_programming_duration_seconds`: from an endpoint's change to answers that show it.
    public let programming: Metrics.Timer
    public let truncated: Counter
    public let dropped: Counter

    public init() {
        requests = Dictionary(uniqueKeysWithValues: Self.types.map { ($0.rawValue, Counter(label: "switchboard_dns_requests_total", dimensions: [("type", $0.description)])) })
        otherRequests = Counter(label: "switchboard_dns_requests_total", dimensions: [("type", "other")])
        responses = Dictionary(uniqueKeysWithValues: Self.rcodes.map { ($0.rawValue, Counter(label: "switchboard_dns_responses_total", dimensions: [("rcode", $0.description)])) })
        otherResponses = Counter(label: "switchboard_dns_responses_total", dimensions: [("rcode", "other")])
        duration = Metrics.Timer(label: "switchboard_dns_request_duration_seconds", preferredDisplayUnit: .seconds)
        cacheHits = Counter(label: "switchboard_dns_cache_hits_total")
        cacheMisses = Counter(label: "switchboard_dns_cache_misses_total")
        snapshotAge = Gauge(label: "switchboard_dns_snapshot_age_seconds")
        snapshotServices = Gauge(label: "switchboard_dns_snapshot_services")
        snapshotEndpoints = Gauge(label: "switchboard_dns_snapshot_endpoints")
        snapshotBuild = Metrics.Timer(label: "switchboard_dns_snapshot_build_duration_seconds", preferredDisplayUnit: .seconds)
        programming = Metrics.Timer(label: "switchboard_dns_programming_duration_seconds", preferredDisplayUnit: .seconds)
        truncated = Counter(label: "switchboard_dns_truncated_responses_total")
        dropped = Counter(label: "switchboard_dns_dropped_packets_total")
    }

    func request(_ type: DNSRecordType?) {
        (type.flatMap { requests[$0.rawValue] } ?? otherRequests).increment()
    }

    func response(_ rcode: DNSResponseCode, nanoseconds: Int64, truncated wasTruncated: Bool) {
        (responses[rcode.rawValue] ?? otherResponses).increment()
        duration.recordNanoseconds(nanoseconds)
        if wasTruncated { truncated.increment() }
    }
}
