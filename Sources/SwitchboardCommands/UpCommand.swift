#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import IPAM
import KubeAPI
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `switchboard up`: the control plane.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the control plane: the Kubernetes API, ClusterIP allocation and the EndpointSlice controller.",
        discussion: """
            Objects are kept in DATA_DIR/store.db (SQLite); every acknowledged write survives a crash. The API is \
            served on --listen (loopback only until TLS and authentication exist) and on a Unix socket, and \
            DATA_DIR/kubeconfig points kubectl at it.
            """)

    @Option(help: "Where the store, the kubeconfig and the Unix socket live.")
    var dataDir = "./.switchboard"

    @Option(help: "Address for the API over HTTP (loopback only).")
    var listen = "127.0.0.1:6443"

    @Option(help: "Unix socket for the API (default: DATA_DIR/api.sock).")
    var listenUnix: String?

    @Option(help: "Service CIDR, or an IPv4,IPv6 pair for dual-stack.")
    var serviceCidr = "10.96.0.0/12"

    @Option(help: "The cluster's DNS domain.")
    var clusterDomain = "cluster.local"

    @Option(help: "Recent events kept so that watches can resume from a resourceVersion; older ones get 410 Expired.")
    var defaultWatchCacheSize = 10_000

    func run() async throws {
        let configuration = try controlPlaneConfiguration()
        let plane = ControlPlane(configuration: configuration, logger: Logger(label: "switchboard"))
        do {
            try await plane.run { url in
                print("switchboard: API at \(url) and unix:\(configuration.unixSocket); use it with: export KUBECONFIG=\(configuration.kubeconfigPath)")
                fflush(nil)
            }
        } catch let error as CommandLineError {
            throw ValidationError(error.description)
        }
    }

    /// Checks every flag, creating the data directory, and names the fix when one is wrong.
    func controlPlaneConfiguration() throws -> ControlPlane.Configuration {
        let (host, port) = try Self.parseListen(listen)
        let cidrs: [CIDR]
        do {
            cidrs = try ClusterIPAllocator.parseServiceCIDRs(serviceCidr)
        } catch {
            throw ValidationError("--service-cidr \(serviceCidr): \(error)")
        }
        guard !clusterDomain.isEmpty, NameValidation.dns1123Subdomain(clusterDomain).isEmpty else {
            throw ValidationError("--cluster-domain \"\(clusterDomain)\" is not a DNS domain such as cluster.local")
        }
        guard defaultWatchCacheSize >= 1 else {
            throw ValidationError("--default-watch-cache-size must be at least 1")
        }
        let directory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot create --data-dir \(directory): \(error)")
        }
        let socket = listenUnix.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? directory + "/api.sock"
        if socket.utf8.count > 107 {
            throw ValidationError("the Unix socket path \(socket) is longer than 107 bytes; pass a shorter --listen-unix")
        }
        return ControlPlane.Configuration(
            dataDirectory: directory, listenHost: host, listenPort: port, unixSocket: socket, serviceCIDRs: cidrs,
            clusterDomain: clusterDomain, watchWindow: defaultWatchCacheSize)
    }

    /// `127.0.0.1:6443`, `[::1]:6443`, `localhost:6443`; only loopback addresses are accepted.
    static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        var host: String
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ValidationError("--listen \(text) is not HOST:PORT (for IPv6: [::1]:6443)")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ValidationError("--listen \(text) is not HOST:PORT, such as 127.0.0.1:6443") }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): the port must be a number from 0 to 65535")
        }
        if host == "localhost" { host = "127.0.0.1" }
        guard let ip = IPAddress(host), ip == IPAddress("::1") || (ip.family == .ipv4 && ip.integerValue >> 24 == 127) else {
            throw ValidationError("--listen \(text) is not a loopback address; until TLS and authentication exist the API is served only on 127.0.0.1 or [::1] (and the Unix socket)")
        }
        return (host, port)
    }
}
