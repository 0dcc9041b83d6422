import DNSWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Why a question could not be answered upstream.
public enum ForwardError: Error, Sendable, CustomStringConvertible {
    case noUpstream
    case timeout
    case unreachable(String)

    public var description: String {
        switch self {
        case .noUpstream: "no upstream resolver is configured"
        case .timeout: "no upstream answered in time"
        case .unreachable(let reason): "upstream unreachable: \(reason)"
        }
    }
}

/// Sends questions for names outside the cluster zone to upstream resolvers and relays their answers.
///
/// Upstreams are tried in the order given, skipping those marked down: two failures in a row mark one down, and
/// it is probed every half second until it answers again (CoreDNS's `max_fails 2` and health check), so that one
/// dead resolver does not make every other query wait for a timeout as a random pick would. When all are down,
/// the first is tried anyway. A truncated UDP answer is asked again over TCP.
public final class UpstreamForwarder: Sendable {
    struct Pending {
        var promise: EventLoopPromise<DNSMessage>
        var question: DNSQuestion
        var upstream: SocketAddress
        var timeout: Scheduled<Void>?
    }

    struct Health {
        var failures = 0
        var down: Bool { failures >= 2 }
    }

    public let upstreams: [SocketAddress]
    public let timeout: TimeAmount
    let group: any EventLoopGroup
    let logger: Logger
    private let channels = Mutex<[Int: any Channel]>([:])  // by protocol family: 4, 6
    private let pending = Mutex<[UInt16: Pending]>([:])
    private let health: Mutex<[Health]>
    private let nextID = Mutex<UInt16>(UInt16.random(in: 0...UInt16.max))

    public init(upstreams: [SocketAddress], timeout: TimeAmount = .seconds(2), group: any EventLoopGroup, logger: Logger) {
        self.upstreams = upstreams
        self.timeout = timeout
        self.group = group
        self.logger = logger
        health = Mutex(Array(repeating: Health(), count: upstreams.count))
    }

    /// Opens the sockets queries leave from.
    public func start() async throws {
        for family in Set(upstreams.map { $0.protocol == .inet6 ? 6 : 4 }) {
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReplyHandler(forwarder: self)) }
                }
                .bind(host: family == 6 ? "::" : "0.0.0.0", port: 0).get()
            channels.withLock { $0[family] = channel }
        }
    }

    public func stop() async {
        let all = channels.withLock { c -> [any Channel] in
            defer { c.removeAll() }
            return Array(c.values)
        }
        for channel in all { try? await channel.close() }
    }

    /// Whether the upstream at `index` is marked down.
    public func isDown(_ index: Int) -> Bool { health.withLock { $0[index].down } }

    /// The upstreams in the order a question tries them: healthy ones first, in configured order.
    func order() -> [Int] {
        let states = health.withLock { $0 }
        let up = states.indices.filter { !states[$0].down }
        return up.isEmpty ? Array(states.indices) : up + states.indices.filter { states[$0].down }
    }

    /// The upstream's answer to `question` (its own RCODE, AA as it set it).
    public func resolve(_ question: DNSQuestion, recursionDesired: Bool = true) async throws -> DNSMessage {
        guard !upstreams.isEmpty else { throw ForwardError.noUpstream }
        var lastError: any Error = ForwardError.timeout
        for index in order().prefix(2) {
            do {
                var answer = try await ask(question, upstream: index, recursionDesired: recursionDesired)
                if answer.header.isTruncated {
                    answer = try await askTCP(question, upstream: upstreams[index], recursionDesired: recursionDesired)
                }
                health.withLock { $0[index].failures = 0 }
                return answer
            } catch {
                lastError = error
                let marked = health.withLock { states -> Bool in
                    states[index].failures += 1
                    return states[index].failures == 2
                }
                if marked {
                    logger.warning("upstream \(upstreams[index]) marked down: \(error)")
                    startProbing(index)
                }
            }
        }
        throw lastError
    }

    private func ask(_ question: DNSQuestion, upstream index: Int, recursionDesired: Bool) async throws -> DNSMessage {
        let upstream = upstreams[index]
        guard let channel = channels.withLock({ $0[upstream.protocol == .inet6 ? 6 : 4] }) else { throw ForwardError.unreachable("not started") }
        let promise = channel.eventLoop.makePromise(of: DNSMessage.self)
        let id = reserveID(question: question, upstream: upstream, promise: promise)
        let timeout = channel.eventLoop.scheduleTask(in: self.timeout) { [self] in
            if let entry = pending.withLock({ $0.removeValue(forKey: id) }) { entry.promise.fail(ForwardError.timeout) }
        }
        pending.withLock { $0[id]?.timeout = timeout }
        let query = DNSMessage(
            header: DNSHeader(id: id, isResponse: false, opcode: .query, recursionDesired: recursionDesired),
            questions: [question], edns: EDNS(udpPayloadSize: ClusterResponder.ourPayloadSize))
        do {
            let bytes = try query.serialize(maxSize: 512)
            let envelope = AddressedEnvelope(remoteAddress: upstream, data: channel.allocator.buffer(bytes: bytes))
            try await channel.writeAndFlush(envelope)
        } catch {
            if let entry = pending.withLock({ $0.removeValue(forKey: id) }) {
                entry.timeout?.cancel()
                entry.promise.fail(ForwardError.unreachable("\(error)"))
            }
        }
        return try await promise.futureResult.get()
    }

    private func reserveID(question: DNSQuestion, upstream: SocketAddress, promise: EventLoopPromise<DNSMessage>) -> UInt16 {
        pending.withLock { pending in
            var id = nextID.withLock { value -> UInt16 in
                value = UInt16.random(in: 0...UInt16.max)
                return value
            }
            while pending[id] != nil { id &+= 1 }
            pending[id] = Pending(promise: promise, question: question, upstream: upstream)
            return id
        }
    }

    /// An answer arrived: it settles the question it belongs to when its ID, source and question match.
    func received(_ bytes: ByteBuffer, from source: SocketAddress) {
        guard let message = bytes.withUnsafeReadableBytes({ try? DNSMessage(parsing: $0) }), message.header.isResponse else { return }
        let entry = pending.withLock { pending -> Pending? in
            guard let entry = pending[message.header.id], entry.upstream == source,
                  message.questions.first == entry.question || message.questions.isEmpty && message.header.rcode != .noError
            else { return nil }
            pending[message.header.id] = nil
            return entry
        }
        guard let entry else { return }  // late, spoofed or for another question: ignored
        entry.timeout?.cancel()
        entry.promise.succeed(message)
    }

    /// The same question over TCP, for an answer too large for UDP.
    private func askTCP(_ question: DNSQuestion, upstream: SocketAddress, recursionDesired: Bool) async throws -> DNSMessage {
        let query = DNSMessage(
            header: DNSHeader(id: UInt16.random(in: 0...UInt16.max), isResponse: false, opcode: .query, recursionDesired: recursionDesired),
            questions: [question])
        let framed = try DNSTCPFraming.frame(try query.serialize())
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: upstream) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: framed))
            var buffer: [UInt8] = []
            for try await chunk in inbound {
                buffer += chunk.readableBytesView
                if let message = DNSTCPFraming.extractMessages(from: &buffer).first {
                    return try DNSMessage(parsing: message)
                }
                if buffer.count > 70_000 { break }
            }
            throw ForwardError.unreachable("the TCP connection closed before an answer")
        }
    }

    /// Probes a down upstream every half second with `. NS` until it answers.
    private func startProbing(_ index: Int) {
        let loop = group.next()
        func probe() {
            loop.scheduleTask(in: .milliseconds(500)) {
                guard self.health.withLock({ $0[index].down }), self.channels.withLock({ !$0.isEmpty }) else { return }
                let promise = loop.makePromise(of: Void.self)
                promise.completeWithTask {
                    _ = try await self.ask(DNSQuestion(name: .root, type: .ns), upstream: index, recursionDesired: false)
                }
                promise.futureResult.whenComplete { result in
                    if case .success = result {
                        self.health.withLock { $0[index].failures = 0 }
                        self.logger.info("upstream \(self.upstreams[index]) is answering again")
                    } else {
                        probe()
                    }
                }
            }
        }
        probe()
    }
}

/// Hands upstream answers to the forwarder.
final class ReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let forwarder: UpstreamForwarder

    init(forwarder: UpstreamForwarder) { self.forwarder = forwarder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        forwarder.received(envelope.data, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors surface here (ECONNREFUSED on a connected socket does not apply; ours is not): ignore,
        // the question times out and the upstream is counted as failing.
    }
}
