import HostNetwork
import KubeAPI
import NIOCore
import NIOPosix

/// Runs one probe against a pod, as kubelet does from the node: TCP connect and HTTP GET to the pod's IP
/// (the node reaches it over its bridge), exec inside the pod's network namespace.
public struct Prober: Sendable {
    let namespaces: NetworkNamespaces
    let group: any EventLoopGroup

    public init(namespaces: NetworkNamespaces, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.namespaces = namespaces
        self.group = group
    }

    /// True when the probe succeeds within its timeout. `ports` resolves named ports.
    public func probe(_ probe: Probe, podIP: String, podNamespace: String, ports: [ContainerPort], timeout: Duration) async -> Bool {
        if let exec = probe.exec {
            guard let command = exec.command, !command.isEmpty,
                let result = try? await namespaces.exec(podNamespace, command, timeout: timeout)
            else { return false }
            return result.succeeded
        }
        if let tcp = probe.tcpSocket {
            guard let port = Self.resolve(tcp.port, ports) else { return false }
            return await connect(host: tcp.host ?? podIP, port: port, timeout: timeout, request: nil)
        }
        if let http = probe.httpGet {
            guard let port = Self.resolve(http.port, ports), (http.scheme ?? "HTTP").uppercased() == "HTTP" else { return false }
            let host = http.host ?? podIP
            var request = "GET \(http.path ?? "/") HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n"
            for header in http.httpHeaders ?? [] { request += "\(header.name): \(header.value)\r\n" }
            request += "\r\n"
            return await connect(host: host, port: port, timeout: timeout, request: request)
        }
        return false
    }

    /// A port number, or a named container port's number.
    static func resolve(_ port: IntOrString, _ ports: [ContainerPort]) -> Int? {
        switch port {
        case .int(let number): return (1...65535).contains(Int(number)) ? Int(number) : nil
        case .string(let name): return ports.first { $0.name == name }.map { Int($0.containerPort) }
        }
    }

    /// Connects; with a request, sends it and succeeds on a status line of 200 to 399 (kubelet's rule).
    private func connect(host: String, port: Int, timeout: Duration, request: String?) async -> Bool {
        let answered = group.next().makePromise(of: Bool.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StatusLineHandler(promise: answered))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            guard let request else {
                answered.succeed(true)
                try? await channel.close()
                return true
            }
            let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                answered.succeed(false)
            }
            channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
            let result = (try? await answered.futureResult.get()) ?? false
            timer.cancel()
            try? await channel.close()
            return result
        } catch {
            answered.succeed(false)
            return false
        }
    }
}

/// Reads up to the end of an HTTP status line and answers whether the code is 2xx or 3xx.
private final class StatusLineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Bool>
    var line: [UInt8] = []

    init(promise: EventLoopPromise<Bool>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while let byte = buffer.readInteger(as: UInt8.self) {
            if byte == UInt8(ascii: "\n") || line.count > 1024 {
                let text = String(decoding: line, as: UTF8.self)
                let parts = text.split(separator: " ")
                let code = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                promise.succeed(text.hasPrefix("HTTP/") && (200..<400).contains(code))
                context.close(promise: nil)
                return
            }
            line.append(byte)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(Int64(duration / .nanoseconds(1)))
    }
}
