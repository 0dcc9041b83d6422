import DNSWire
import DNSZone
import KubeAPI
import Logging
import NIOCore
import Testing
@testable import ClusterDNS
#if canImport(Glibc)
import Glibc
#endif

/// The server on real loopback sockets: UDP and TCP answers, forwarding to an upstream (another of our servers,
/// authoritative for a zone of its own), the cache, an unreachable upstream, and loops refused at start.
@Suite(.serialized)
struct DNSServerTests {
    static func zone(_ domain: String, ip: String) -> ClusterZoneSnapshot {
        var web = Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80)]))
        web.spec.clusterIP = ip
        web.spec.clusterIPs = [ip]
        return ClusterZoneSnapshot.build(services: [web], endpointSlices: [], namespaces: ["default"], options: ZoneOptions(clusterDomain: domain))
    }

    static func server(_ snapshot: ClusterZoneSnapshot?, upstreams: [SocketAddress] = [], port: Int = 0) -> DNSServer {
        DNSServer(
            configuration: DNSServerConfiguration(host: "127.0.0.1", port: port, threads: 1, upstreams: upstreams),
            snapshot: { snapshot }, logger: Logger(label: "test"))
    }

    /// One UDP exchange with a receive deadline; nil when nothing came back.
    static func udp(_ port: Int, _ query: [UInt8], timeout: Int = 2) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer[0..<n]) : nil
    }

    /// One TCP exchange (two-byte length framing).
    static func tcp(_ port: Int, _ query: [UInt8]) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, let framed = try? DNSTCPFraming.frame(query), send(fd, framed, framed.count, 0) == framed.count else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            received += buffer[0..<n]
            if let message = DNSTCPFraming.extractMessages(from: &received).first { return message }
        }
    }

    static func query(_ name: String, _ type: DNSRecordType = .a, id: UInt16 = 0x4242) -> [UInt8] {
        try! DNSMessage.query(id: id, name: DNSName(name), type: type).serialize()
    }

    @Test func answersOverUDPAndTCP() async throws {
        let server = Self.server(Self.zone("cluster.local", ip: "10.96.0.20"))
        try await server.start()
        let port = server.boundPort
        let udp = try DNSMessage(parsing: try #require(Self.udp(port, Self.query("web.default.svc.cluster.local"))))
        #expect(udp.header.id == 0x4242 && udp.answers.first?.rdata == .ipv4(10, 96, 0, 20))
        let tcp = try DNSMessage(parsing: try #require(Self.tcp(port, Self.query("web.default.svc.cluster.local"))))
        #expect(tcp.answers.first?.rdata == .ipv4(10, 96, 0, 20))
        #expect(Self.udp(port, [1, 2, 3], timeout: 1) == nil, "a packet shorter than a header gets no reply")
        let after = try DNSMessage(parsing: try #require(Self.udp(port, Self.query("web.default.svc.cluster.local"))))
        #expect(after.header.rcode == .noError, "and the server still answers")
        await server.stop()
    }

    @Test func otherNamesAreForwardedCachedAndRelayed() async throws {
        let upstream = Self.server(Self.zone("example.com", ip: "10.1.2.3"))
        try await upstream.start()
        let server = Self.server(Self.zone("cluster.local", ip: "10.96.0.20"), upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: upstream.boundPort)])
        try await server.start()
        let reply = try DNSMessage(parsing: try #require(Self.udp(server.boundPort, Self.query("web.default.svc.example.com", id: 7), timeout: 8)))
        #expect(reply.header.id == 7 && !reply.header.isAuthoritative && reply.header.recursionAvailable)
        #expect(reply.answers.first?.rdata == .ipv4(10, 1, 2, 3))
        #expect(server.cache.count == 1)
        let nx = try DNSMessage(parsing: try #require(Self.udp(server.boundPort, Self.query("nope.default.svc.example.com"), timeout: 8)))
        #expect(nx.header.rcode == .nxDomain && nx.authorities.first?.type == .soa, "the upstream's NXDOMAIN, with its SOA")
        // The upstream goes away: cached names still answer, others fail with SERVFAIL.
        await upstream.stop()
        let cached = try DNSMessage(parsing: try #require(Self.udp(server.boundPort, Self.query("web.default.svc.example.com"))))
        #expect(cached.answers.first?.rdata == .ipv4(10, 1, 2, 3))
        let failed = try DNSMessage(parsing: try #require(Self.udp(server.boundPort, Self.query("other.default.svc.example.com"), timeout: 8)))
        #expect(failed.header.rcode == .servFail)
        await server.stop()
    }

    @Test func anUpstreamThatIsThisServerIsRefused() async throws {
        let server = Self.server(Self.zone("cluster.local", ip: "10.96.0.20"), upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: 5399)], port: 5399)
        await #expect(throws: DNSServerError.self) { try await server.start() }
    }

    @Test func aForwardingLoopThroughAnotherServerIsRefused() async throws {
        // B forwards to A; A would forward to B: A's probe comes back to A.
        let a = Self.server(Self.zone("cluster.local", ip: "10.96.0.20"), upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: 5398)], port: 5397)
        let b = Self.server(Self.zone("other.local", ip: "10.96.0.21"), upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: 5397)], port: 5398)
        // B starts while A is not up yet: its probe times out, no loop seen.
        try await b.start()
        await #expect(throws: DNSServerError.self) { try await a.start() }
        await b.stop()
    }
}
