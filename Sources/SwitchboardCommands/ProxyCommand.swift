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
import UserspaceProxy
import HostNetwork
import UnixSignals

/// `switchboard proxy`: the node data plane.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the Service proxy: traffic to clusterIP:port is load-balanced to ready endpoints.",
        discussion: """
            --mode nftables (default) programs table `switchboard` (ip, and ip6 on a dual-stack cluster) in the \
            network namespace it runs in; --mode iptables programs chains SWITCHBOARD-* and SB-* there with \
            iptables-restore. Both need root; on a real node this is the host's namespace: run them there only on \
            purpose. Each removes what the other modes left.

            --mode userspace needs neither root nor netfilter: it listens on each Service port's ClusterIP and \
            relays connections to an endpoint. A ClusterIP that is not a local address (no `ip route add local \
            SERVICE-CIDR dev lo`) is served on the loopback address it maps to, 127. and the ClusterIP's low three \
            bytes (10.96.0.10 → 127.96.0.10), and a port below 1024 that a user may not bind on port + 10000.
            """)

    @Option(help: "The API server: http://127.0.0.1:6443 or unix:///path/api.sock.")
    var server: String?

    @Option(help: "A kubeconfig whose server is used (instead of --server).")
    var kubeconfig: String?

    @Option(help: "nftables, iptables or userspace.")
    var mode = "nftables"

    @Option(help: "userspace: round-robin or random.")
    var loadBalancing = "round-robin"

    @Option(help: "userspace: concurrent TCP connections relayed (each costs two file descriptors); beyond it clients are reset.")
    var maxConnections = 10_000

    @Option(help: "userspace: concurrent UDP flows (one socket each); beyond it new flows' datagrams are dropped.")
    var maxUdpFlows = 10_000

    @Option(help: "userspace: seconds after which a UDP flow with no traffic is forgotten.")
    var udpIdleTimeout = 30.0

    @Option(help: "userspace: seconds per connect to an endpoint before the next endpoint is tried.")
    var connectTimeout = 1.0

    @Flag(inversion: .prefixedNo, help: "userspace: serve a ClusterIP that cannot be bound on the loopback address it maps to.")
    var loopbackFallback = true

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
        let mode = try ProxyOptions.mode(mode, flag: "--mode")
        let root = getuid() == 0
        switch mode {
        case .nftables:
            guard root else { throw CommandLineError("--mode nftables programs the kernel and needs root (run it with sudo, or use --mode userspace)") }
            guard HostCommandRunner.which("nft") != nil else { throw CommandLineError("--mode nftables needs `nft` (apt-get install nftables)") }
        case .iptables:
            guard root else { throw CommandLineError("--mode iptables programs the kernel and needs root (run it with sudo, or use --mode userspace)") }
            guard HostCommandRunner.which("iptables-restore") != nil else {
                throw CommandLineError("--mode iptables needs `iptables-restore` (apt-get install iptables)")
            }
        case .userspace: break
        }
        guard let balancing = UserspaceBalancing(rawValue: loadBalancing) else {
            throw CommandLineError("--load-balancing \(loadBalancing): use round-robin or random")
        }
        guard maxConnections > 0, maxUdpFlows > 0 else { throw CommandLineError("--max-connections and --max-udp-flows must be at least 1") }
        guard udpIdleTimeout > 0, connectTimeout > 0 else { throw CommandLineError("--udp-idle-timeout and --connect-timeout must be positive") }
        let serviceCIDRs: [CIDR]
        do { serviceCIDRs = try ClusterIPAllocator.parseServiceCIDRs(serviceCidr) } catch {
            throw CommandLineError("--service-cidr \(serviceCidr): \(error)")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let node = hostnameOverride ?? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var proxy = try ProxyOptions.configuration(
            nodeName: node, families: serviceCIDRs.map(\.family), clusterCIDR: clusterCidr, serviceCIDRs: serviceCIDRs,
            masqueradeAll: masqueradeAll, allowExternalClusterIP: allowExternalClusterIp,
            minSyncPeriod: .milliseconds(Int(minSyncPeriod * 1000)), syncPeriod: .milliseconds(Int(max(1, syncPeriod) * 1000)), mode: mode)
        proxy.userspace.balancing = balancing
        proxy.userspace.connectTimeout = .milliseconds(Int(connectTimeout * 1000))
        proxy.userspace.maxConnections = maxConnections
        proxy.userspace.maxUDPFlows = maxUdpFlows
        proxy.userspace.udpIdleTimeout = .milliseconds(Int(udpIdleTimeout * 1000))
        proxy.userspace.loopbackFallback = loopbackFallback
        let endpoint = try APIConnection.endpoint(server: server, kubeconfig: kubeconfig)
        let client = HTTPClusterClient(endpoint: endpoint)
        let healthz = try ProxyEndpoints.address(healthzBindAddress, flag: "--healthz-bind-address")
        let metricsAddress = try ProxyEndpoints.address(metricsBindAddress, flag: "--metrics-bind-address")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "switchboard.proxy")
        if root { await Proxier.removeOtherModes(than: mode, families: proxy.families) }
        let proxier = Proxier(client: client, configuration: proxy, logger: logger)
        logger.info("proxy mode \(mode.rawValue)")
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ProxierService(proxier: proxier))]
        // Unhealthy once no sync has succeeded for two sync periods (a resync is due every period).
        if let healthz { services.append(.init(service: ProxyEndpoints.healthz(proxier, limit: proxy.syncPeriod * 2 + proxy.minSyncPeriod, address: healthz, logger: logger))) }
        if let metricsAddress { services.append(.init(service: ProxyEndpoints.metrics(registry, address: metricsAddress, logger: logger))) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.shutdown()
    }

    /// Userspace mode's answer to the netfilter modes' drop of outside traffic: with cluster CIDRs known and
    /// outside access not allowed, only pods and this host's own addresses are served.
    static func allowedClients(_ rules: ProxyConfiguration) -> [CIDR]? {
        guard !rules.allowExternalClusterIP, !rules.clusterCIDRs.isEmpty else { return nil }
        return rules.clusterCIDRs
    }
}

/// Proxy flags to a proxier configuration, shared by `switchboard proxy` and `switchboard node --proxy-mode`.
enum ProxyOptions {
    /// `text` as a proxy mode, or the one-line error naming `flag` and the modes there are (`extra`: other
    /// values the flag takes, such as `none`).
    static func mode(_ text: String, flag: String, extra: [String] = []) throws -> ProxyMode {
        guard let mode = ProxyMode(rawValue: text) else {
            let names = extra + ProxyMode.allCases.map(\.rawValue)
            throw CommandLineError("\(flag) \(text): use \(names.dropLast().joined(separator: ", ")) or \(names.last!)")
        }
        return mode
    }

    static func configuration(
        nodeName: String, families: [IPFamily], clusterCIDR: String?, serviceCIDRs: [CIDR], masqueradeAll: Bool,
        allowExternalClusterIP: Bool, minSyncPeriod: Duration, syncPeriod: Duration, mode: ProxyMode = .nftables
    ) throws -> ProxierConfiguration {
        var clusterCIDRs: [CIDR] = []
        if let clusterCIDR {
            do { clusterCIDRs = try clusterCIDR.split(separator: ",").map { text throws(AddressParseError) in try CIDR(parsing: text) } } catch {
                throw CommandLineError("--cluster-cidr \(clusterCIDR): \(error)")
            }
        }
        var configuration = ProxierConfiguration(
            nodeName: nodeName, families: Array(Set(families)).sorted { $0 == .ipv4 && $1 != .ipv4 },
            rules: ProxyConfiguration(
                clusterCIDRs: clusterCIDRs, serviceCIDRs: serviceCIDRs, masqueradeAll: masqueradeAll,
                allowExternalClusterIP: allowExternalClusterIP),
            minSyncPeriod: minSyncPeriod, syncPeriod: syncPeriod, mode: mode)
        if mode == .userspace { configuration.userspace.allowedClients = ProxyCommand.allowedClients(configuration.rules) }
        return configuration
    }
}
