import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Proxy
import ServiceLifecycle
import Synchronization

/// The proxier's `/healthz` and Prometheus `/metrics`, each on its own address as kube-proxy serves them.
enum ProxyEndpoints {
    /// Healthy while syncs succeed: the last good one is at most `limit` old.
    static func healthz(_ proxier: Proxier, limit: Duration, address: BindAddress, logger: Logger) -> some Service {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            let last = proxier.lastSuccess.withLock { $0 }
            let healthy = last.map { ContinuousClock.now - $0 <= limit } ?? false
            let text = healthy ? "ok\n" : (last == nil ? "no sync yet\n" : "the last successful sync is older than \(limit)\n")
            return Response(
                status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        return Application(router: router, configuration: ApplicationConfiguration(address: address, serverName: "switchboard-proxy"), logger: logger)
    }

    static func metrics(_ registry: PrometheusCollectorRegistry, address: BindAddress, logger: Logger) -> some Service {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return Application(router: router, configuration: ApplicationConfiguration(address: address, serverName: "switchboard-proxy"), logger: logger)
    }

    /// `HOST:PORT` (empty: off).
    static func address(_ text: String, flag: String) throws -> BindAddress? {
        if text.isEmpty { return nil }
        guard let (host, port) = hostAndPort(text) else {
            throw CommandLineError("\(flag) \(text) is not HOST:PORT (or empty to turn it off)")
        }
        return .hostname(host, port: port)
    }

    /// `HOST:PORT`, `[V6]:PORT` or `:PORT` (all addresses) as a host and a port; nil when it is none of these.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// The proxier as a lifecycle service.
struct ProxierService: Service {
    let proxier: Proxier
    func run() async throws {
        await cancelWhenGracefulShutdown { await proxier.run() }
    }
}
