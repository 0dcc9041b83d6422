#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import ClusterDNS
import DNSZone
import IPAM
import KubeAPI
import KubeClientHTTP
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `switchboard dns`: the cluster DNS server.
struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Run the cluster DNS server: <service>.<namespace>.svc.<domain> from the API, other names forwarded.",
        discussion: """
            Answers A, AAAA, SRV, PTR, TXT and SOA for the cluster domain from a snapshot of Services and \
            EndpointSlices, swapped whole on every change; SERVFAIL until the first sync. Names outside the \
            domain go to the upstream resolvers through a TTL-respecting cache.
            """)

    @Option(help: "The API server: http://127.0.0.1:6443 or unix:///path/api.sock.")
    var server: String?

    @Option(help: "A kubeconfig whose server is used (instead of --server).")
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Where to answer, UDP and TCP.", valueName: "[HOST]:PORT"))
    var listen = "0.0.0.0:53"

    @Option(help: "The cluster domain.")
    var clusterDomain = "cluster.local"

    @Option(help: "TTL of in-zone answers, 0 to 3600 seconds.")
    var ttl = 30

    @Option(help: "Pod records a-b-c-d.<namespace>.pod.<domain>: disabled, insecure (any IP) or verified (only pods' IPs).")
    var pods = "disabled"

    @Option(help: ArgumentHelp(
        "Resolvers for other names, HOST[:PORT] comma-separated, or none (default: the nameservers of /etc/resolv.conf).",
        valueName: "HOST[:PORT],…"))
    var upstream: String?

    @Option(help: "Event loops, each with its own UDP socket (default: one per core).")
    var threads: Int?

    @Option(help: "HOST:PORT for Prometheus /metrics (empty: off).")
    var metricsBindAddress = "127.0.0.1:9153"

    @Option(help: "Share of queries to log, 0 to 1.")
    var logQueries = 0.0

    func validate() throws {
        guard (0...3600).contains(ttl) else { throw ValidationError("--ttl must be 0 to 3600 seconds") }
        guard ["disabled", "insecure", "verified"].contains(pods) else { throw ValidationError("--pods must be disabled, insecure or verified") }
        guard (0...1).contains(logQueries) else { throw ValidationError("--log-queries must be between 0 and 1, such as 0.01") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        _ = try Self.listenAddress(listen)
        _ = try Self.upstreams(upstream)
    }

    func run() async throws {
        let (host, port) = try Self.listenAddress(listen)
        let upstreams = try Self.upstreams(upstream)
        let endpoint = try APIConnection.endpoint(server: server, kubeconfig: kubeconfig)
        let client = HTTPClusterClient(endpoint: endpoint)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "switchboard.dns")
        let metrics = DNSMetrics()
        let mode: PodsMode = pods == "insecure" ? .insecure : pods == "verified" ? .verified : .disabled
        let options = ZoneOptions(clusterDomain: clusterDomain, ttl: UInt32(ttl), podsMode: mode)
        let source = ClusterZoneSource(client: client, options: options, logger: logger) { snapshot, triggers, took in
            metrics.snapshotServices.record(snapshot.serviceCount)
            metrics.snapshotEndpoints.record(snapshot.endpointCount)
            metrics.snapshotBuild.recordNanoseconds(Int64(took / .nanoseconds(1)))
            let now = Time.now()
            for trigger in triggers {
                let nanoseconds = now.nanoseconds(since: trigger)
                if nanoseconds >= 0 { metrics.programming.recordNanoseconds(nanoseconds) }
            }
        }
        let dns = DNSServer(
            configuration: DNSServerConfiguration(
                host: host, port: port, threads: threads ?? System.coreCount, upstreams: upstreams, queryLogRate: logQueries),
            clusterDomain: clusterDomain, snapshot: { source.snapshot }, metrics: metrics, logger: logger)
        do {
            try await dns.start()
        } catch {
            throw CommandLineError("\(error)")
        }
        logger.info("answering for \(clusterDomain) on \(host):\(dns.boundPort) (UDP and TCP); upstreams: \(upstreams.isEmpty ? "none" : upstreams.map(\.description).joined(separator: ", "))")
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ClosureService { await source.run() }),
            .init(service: ClosureService {
                // The snapshot's age, for alerts on a DNS server that lost the API.
                while !Task.isCancelled {
                    if let age = source.age { metrics.snapshotAge.record(Double(age.components.seconds)) }
                    try? await Task.sleep(for: .seconds(1))
                }
            }),
        ]
        if let address = try ProxyEndpoints.address(metricsBindAddress, flag: "--metrics-bind-address") {
            services.append(.init(service: ProxyEndpoints.metrics(registry, address: address, logger: logger)))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await dns.stop()
        await client.shutdown()
    }

    /// `[HOST]:PORT`, `:53`, `[::]:53`.
    static func listenAddress(_ text: String) throws -> (String, Int) {
        guard let address = ProxyEndpoints.hostAndPort(text) else {
            throw ValidationError("--listen \(text) is not [HOST]:PORT, such as 0.0.0.0:53 or 127.0.0.1:5353")
        }
        return address
    }

    /// The upstream resolvers: the flag's, or the host's resolv.conf nameservers.
    static func upstreams(_ text: String?) throws -> [SocketAddress] {
        var entries: [String]
        if let text {
            if text == "none" || text.isEmpty { return [] }
            entries = text.split(separator: ",").map(String.init)
        } else {
            let conf = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
            entries = conf.split(separator: "\n").compactMap { line in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return fields.count >= 2 && fields[0] == "nameserver" ? String(fields[1]) : nil
            }
        }
        return try entries.map { entry in
            var host = entry
            var port = 53
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                host = String(entry[entry.index(after: entry.startIndex)..<close])
                if let p = Int(entry[close...].dropFirst(2)) { port = p }
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                host = String(entry[..<colon])
                guard let p = Int(entry[entry.index(after: colon)...]) else { throw ValidationError("--upstream \(entry): the port is not a number") }
                port = p
            }
            guard IPAddress(host) != nil, (1...65535).contains(port) else {
                throw ValidationError("--upstream \(entry) is not an IP address with an optional port, such as 10.0.0.2 or 127.0.0.1:5300")
            }
            do { return try SocketAddress(ipAddress: host, port: port) } catch { throw ValidationError("--upstream \(entry): \(error)") }
        }
    }
}

/// A lifecycle service that runs a closure until cancelled or shut down.
struct ClosureService: ServiceLifecycle.Service {
    let body: @Sendable () async -> Void
    init(_ body: @escaping @Sendable () async -> Void) { self.body = body }
    func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}
