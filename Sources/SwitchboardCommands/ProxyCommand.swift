#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import IPAM
import KubeClientHTTP
import Logging
import Metrics
import Prometheus
import Proxy
import ProxyCore
import ServiceLifecycle
import UnixSignals

/// `switchboard proxy`: the node data plane.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the Service proxy: traffic to clusterIP:port is load-balanced to ready endpoints (nftables).",
        discussion: """
            Programs table `switchboard` (ip, and ip6 on a dual-stack cluster) in the network namespace it runs in; \
            needs root. On a real node this is the host's namespace: run it there only on purpose.
            """)

    @Option(help: "The API server: http://127.0.0.1:6443 or unix:///path/api.sock.")
    var server: String?

    @Option(help: "A kubeconfig whose server is used (instead of --server).")
    var kubeconfig: String?

    @Option(help: "nftables (iptables and userspace come later).")
    var mode = "nftables"

    @Option(help: "This node's name, for internalTrafficPolicy: Local (default: the host name).")
    var hostnameOverride: String?

    @Option(help: "The pods' CIDR(s) of the cluster: traffic from elsewhere to a ClusterIP is masqueraded, or dropped when it comes from outside the node.")
    var clusterCidr: String?

    @Option(help: "The cluster's service CIDR(s).")
    var serviceCidr = "10.96.0.0/12"

    @Flag(help: "Masquerade all traffic to ClusterIPs.")
    var masqueradeAll = false

    @Flag(help: "Let hosts outside the cluster reach ClusterIPs (kube-proxy's behaviour); by default they are dropped.")
    var allowExternalClusterIp = false

    @Option(help: "Seconds: changes within this time of the last sync are programmed together.")
    var minSyncPeriod = 0.0

    @Option(help: "Seconds between full resyncs.")
    var syncPeriod = 30.0

    @Option(help: "HOST:PORT for /healthz, healthy while syncs succeed (empty: off).")
    var healthzBindAddress = "127.0.0.1:10256"

    @Option(help: "HOST:PORT for Prometheus /metrics (empty: off).")
    var metricsBindAddress = "127.0.0.1:10249"

    func run() async throws {
        guard mode == "nftables" else { throw CommandLineError("--mode \(mode) is not available yet; use --mode nftables") }
        guard getuid() == 0 else { throw CommandLineError("switchboard proxy programs nftables and needs root (run it with sudo)") }
        let serviceCIDRs: [CIDR]
        do { serviceCIDRs = try ClusterIPAllocator.parseServiceCIDRs(serviceCidr) } catch {
            throw CommandLineError("--service-cidr \(serviceCidr): \(error)")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let node = hostnameOverride ?? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let proxy = try ProxyOptions.configuration(
            nodeName: node, families: serviceCIDRs.map(\.family), clusterCIDR: clusterCidr, serviceCIDRs: serviceCIDRs,
            masqueradeAll: masqueradeAll, allowExternalClusterIP: allowExternalClusterIp,
            minSyncPeriod: .milliseconds(Int(minSyncPeriod * 1000)), syncPeriod: .milliseconds(Int(max(1, syncPeriod) * 1000)))
        let endpoint = try APIConnection.endpoint(server: server, kubeconfig: kubeconfig)
        let client = HTTPClusterClient(endpoint: endpoint)
        let healthz = try ProxyEndpoints.address(healthzBindAddress, flag: "--healthz-bind-address")
        let metricsAddress = try ProxyEndpoints.address(metricsBindAddress, flag: "--metrics-bind-address")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "switchboard.proxy")
        let proxier = Proxier(client: client, configuration: proxy, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ProxierService(proxier: proxier))]
        // Unhealthy once no sync has succeeded for two sync periods (a resync is due every period).
        if let healthz { services.append(.init(service: ProxyEndpoints.healthz(proxier, limit: proxy.syncPeriod * 2 + proxy.minSyncPeriod, address: healthz, logger: logger))) }
        if let metricsAddress { services.append(.init(service: ProxyEndpoints.metrics(registry, address: metricsAddress, logger: logger))) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.shutdown()
    }
}

/// Proxy flags to a proxier configuration, shared by `switchboard proxy` and `switchboard node --proxy-mode`.
enum ProxyOptions {
    static func configuration(
        nodeName: String, families: [IPFamily], clusterCIDR: String?, serviceCIDRs: [CIDR], masqueradeAll: Bool,
        allowExternalClusterIP: Bool, minSyncPeriod: Duration, syncPeriod: Duration
    ) throws -> ProxierConfiguration {
        var clusterCIDRs: [CIDR] = []
        if let clusterCIDR {
            do { clusterCIDRs = try clusterCIDR.split(separator: ",").map { text throws(AddressParseError) in try CIDR(parsing: text) } } catch {
                throw CommandLineError("--cluster-cidr \(clusterCIDR): \(error)")
            }
        }
        return ProxierConfiguration(
            nodeName: nodeName, families: Array(Set(families)).sorted { $0 == .ipv4 && $1 != .ipv4 },
            rules: ProxyConfiguration(
                clusterCIDRs: clusterCIDRs, serviceCIDRs: serviceCIDRs, masqueradeAll: masqueradeAll,
                allowExternalClusterIP: allowExternalClusterIP),
            minSyncPeriod: minSyncPeriod, syncPeriod: syncPeriod)
    }
}
