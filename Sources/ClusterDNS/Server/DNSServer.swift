import DNSWire
import DNSZone
import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How the server listens and forwards.
public struct DNSServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Event loops, each with its own UDP socket on the port (SO_REUSEPORT): the kernel spreads queries.
    public var threads: Int
    /// Upstream resolvers for names outside the zone; empty: such names are REFUSED.
    public var upstreams: [SocketAddress]
    /// Share of queries written to the log (0: none, 1: all).
    public var queryLogRate: Double
    /// TCP connections served at once; more wait in the listen backlog.
    public var maxTCPConnections: Int
    public var tcpIdleTimeout: TimeAmount

    public init(
        host: String = "0.0.0.0", port: Int = 53, threads: Int = System.coreCount, upstreams: [SocketAddress] = [], queryLogRate: Double = 0,
        maxTCPConnections: Int = 1000, tcpIdleTimeout: TimeAmount = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.upstreams = upstreams
        self.queryLogRate = queryLogRate
        self.maxTCPConnections = maxTCPConnections
        self.tcpIdleTimeout = tcpIdleTimeout
    }
}

/// Why the server would not start.
public struct DNSServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The cluster DNS server: UDP and TCP on one port, answers from the zone snapshot on the event loop that read
/// the query, everything else through the cache and the upstream forwarder.
public final class DNSServer: Sendable {
    public let configuration: DNSServerConfiguration
    let snapshot: @Sendable () -> ClusterZoneSnapshot?
    let responder: ClusterResponder
    let forwarder: UpstreamForwarder?
    let cache = ForwardCache()
    let metrics: DNSMetrics
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    private let channels = Mutex<[any Channel]>([])
    private let tcpConnections = Atomic<Int>(0)
    /// The name of the loop probe: a query for it reaching us means an upstream forwards to us.
    let loopProbe: DNSName
    let loopSeen = Atomic<Bool>(false)

    public init(
        configuration: DNSServerConfiguration, clusterDomain: String = "cluster.local", snapshot: @escaping @Sendable () -> ClusterZoneSnapshot?,
        metrics: DNSMetrics = DNSMetrics(), logger: Logger
    ) {
        self.configuration = configuration
        self.snapshot = snapshot
        self.metrics = metrics
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        responder = ClusterResponder(forwardingEnabled: !configuration.upstreams.isEmpty, clusterDomain: clusterDomain)
        forwarder = configuration.upstreams.isEmpty ? nil : UpstreamForwarder(upstreams: configuration.upstreams, group: group, logger: logger)
        loopProbe = (try? DNSName("sb-loop-\(UInt64.random(in: 0...UInt64.max)).switchboard.invalid")) ?? .root
    }

    private let port = Atomic<Int>(0)

    /// The port bound for UDP and TCP (the configured one, or the one picked for port 0).
    public var boundPort: Int { port.load(ordering: .relaxed) }

    /// Binds the sockets, then checks that no upstream is this server.
    public func start() async throws {
        try Self.checkStaticLoop(configuration)
        var bound: [any Channel] = []
        do {
            var port = configuration.port
            for loop in group.makeIterator() {
                let channel = try await DatagramBootstrap(group: loop)
                    .channelOption(.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: 1)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(.datagramVectorReadMessageCount, value: 32)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(server: self)) }
                    }
                    .bind(host: configuration.host, port: port).get()
                // Port 0: every later socket shares the port the first one got.
                port = channel.localAddress?.port ?? port
                bound.append(channel)
            }
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: self.configuration.tcpIdleTimeout))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(TCPQueryHandler(server: self))
                    }
                }
                .bind(host: configuration.host, port: port).get()
            bound.append(tcp)
            channels.withLock { $0 = bound }
            self.port.store(port, ordering: .relaxed)
            try await forwarder?.start()
        } catch {
            for channel in bound { try? await channel.close() }
            throw DNSServerError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        try await checkLoop()
    }

    /// Runs until cancelled, then closes the sockets.
    public func run() async throws {
        try await start()
        try? await withTaskCancellationHandler {
            while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
        } onCancel: {}
        await stop()
    }

    public func stop() async {
        let all = channels.withLock { c -> [any Channel] in
            defer { c.removeAll() }
            return c
        }
        for channel in all { try? await channel.close() }
        await forwarder?.stop()
        try? await group.shutdownGracefully()
    }

    /// An upstream that is our own listening address is a loop, refused before anything is bound.
    static func checkStaticLoop(_ configuration: DNSServerConfiguration) throws {
        for upstream in configuration.upstreams where upstream.port == configuration.port {
            let host = upstream.ipAddress ?? ""
            let wildcard = configuration.host == "0.0.0.0" || configuration.host == "::"
            if host == configuration.host || (wildcard && (host.hasPrefix("127.") || host == "::1")) {
                throw DNSServerError("upstream \(host):\(upstream.port!) is this server itself: a forwarding loop; give --upstream another resolver, or none")
            }
        }
    }

    /// Asks each upstream for a name only we would notice; if it comes back to us, the upstream forwards to us.
    func checkLoop() async throws {
        guard let forwarder else { return }
        for index in forwarder.upstreams.indices {
            _ = try? await forwarder.resolve(DNSQuestion(name: loopProbe, type: .hinfo))
            if loopSeen.load(ordering: .relaxed) {
                await stop()
                throw DNSServerError("upstream \(forwarder.upstreams[index]) forwards back to this server (a loop); give --upstream a resolver that does not use this one")
            }
        }
    }

    /// Answers one packet; `send` gets the reply, now or (forwarded) later, on `loop`.
    func handle(
        _ packet: ByteBuffer, tcp: Bool, client: SocketAddress?, writer: inout DNSMessageWriter, loop: any EventLoop,
        send: @escaping @Sendable ([UInt8]) -> Void
    ) -> [UInt8]? {
        let started = NIODeadline.now()
        let (decision, outcome) = packet.withUnsafeReadableBytes { bytes in
            responder.respond(to: bytes, snapshot: snapshot(), tcp: tcp, writer: &writer)
        }
        switch decision {
        case .drop:
            metrics.dropped.increment()
            return nil
        case .reply(let bytes):
            if let outcome {
                metrics.request(outcome.type)
                metrics.response(outcome.rcode, nanoseconds: (NIODeadline.now() - started).nanoseconds, truncated: outcome.truncated)
                logQuery(client: client, type: outcome.type, bytes: bytes, rcode: outcome.rcode, started: started)
            }
            return bytes
        case .forward(let query, let question, let prefix):
            metrics.request(question.type)
            let limit = tcp ? 65535 : query.responseSizeLimit
            if question.name == loopProbe {
                // Our own probe came back: an upstream forwards to us. Answer it here, or it would circle.
                loopSeen.store(true, ordering: .relaxed)
                return responder.encode(query, rcode: .refused, authoritative: false, answers: [], authority: [], additionals: [], limit: limit, withQuestion: true, writer: &writer)
            }
            if let cached = cache.lookup(question) {
                metrics.cacheHits.increment()
                var writer = writer
                let bytes = relay(cached, to: query, prefix: prefix, limit: limit, writer: &writer)
                metrics.response(cached.header.rcode, nanoseconds: (NIODeadline.now() - started).nanoseconds, truncated: writer.isTruncated)
                return bytes
            }
            metrics.cacheMisses.increment()
            guard let forwarder else { return nil }
            let promise = loop.makePromise(of: DNSMessage.self)
            promise.completeWithTask { try await forwarder.resolve(question, recursionDesired: query.header.recursionDesired) }
            promise.futureResult.whenComplete { [self] result in
                var writer = DNSMessageWriter()
                let bytes: [UInt8]
                let rcode: DNSResponseCode
                switch result {
                case .success(let message):
                    cache.store(question, message)
                    bytes = relay(message, to: query, prefix: prefix, limit: limit, writer: &writer)
                    rcode = message.header.rcode
                case .failure(let error):
                    logger.debug("forwarding \(question) failed: \(error)")
                    bytes = responder.encode(query, rcode: .servFail, authoritative: false, answers: prefix, authority: [], additionals: [], limit: limit, withQuestion: true, writer: &writer)
                    rcode = .servFail
                }
                metrics.response(rcode, nanoseconds: (NIODeadline.now() - started).nanoseconds, truncated: writer.isTruncated)
                send(bytes)
            }
            return nil
        }
    }

    /// The upstream's answer, under the client's ID and question; an ExternalName's CNAME first.
    func relay(_ message: DNSMessage, to query: DNSQueryView, prefix: [DNSResourceRecord], limit: Int, writer: inout DNSMessageWriter) -> [UInt8] {
        responder.encode(
            query, rcode: message.header.rcode, authoritative: false, recursionAvailable: true, answers: prefix + message.answers,
            authority: message.authorities, additionals: message.additionals, limit: limit, withQuestion: true, writer: &writer)
    }

    private func logQuery(client: SocketAddress?, type: DNSRecordType?, bytes: [UInt8], rcode: DNSResponseCode, started: NIODeadline) {
        let rate = configuration.queryLogRate
        guard rate > 0, rate >= 1 || Double.random(in: 0..<1) < rate else { return }
        let name = (try? DNSMessage(parsing: bytes))?.questions.first?.name.description ?? "?"
        let micros = (NIODeadline.now() - started).nanoseconds / 1000
        logger.info("query \(client?.description ?? "-") \(type?.description ?? "?") \(name) \(rcode) \(micros)µs \(bytes.count)B")
    }

    func tcpOpened() -> Bool {
        let now = tcpConnections.wrappingAdd(1, ordering: .relaxed).newValue
        return now <= configuration.maxTCPConnections
    }

    func tcpClosed() { tcpConnections.wrappingSubtract(1, ordering: .relaxed) }
}
