import Echo
import IPAM
import NIOCore
import NIOPosix
import ProxyCore
import Testing
@testable import UserspaceProxy

@Suite struct UDPRelayTests {
    @Test func requestAndReplyComeBackFromTheListenerAddress() async throws {
        try await within {
            try await withBackends(1, udp: true, prefix: "u") { backends in
                try await withProxy { proxy in
                    let listeners = await proxy.apply([servicePort("127.2.1.1", 20101, [backends[0].endpoint], transport: "udp", name: "default/dns:dns")])
                    #expect(listeners.first?.boundAddress == "127.2.1.1:20101")
                    let target = try SocketAddress(ipAddress: "127.2.1.1", port: 20101)
                    try await withUDPClient { outbound, inbound, _ in
                        for payload in ["one", "two", "three"] {
                            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: payload)))
                            let answer = try #require(try await inbound.next())
                            #expect(podName(String(buffer: answer.data)) == "u1")
                            #expect(answer.remoteAddress == target)
                        }
                    }
                    #expect(proxy.statistics.activeUDPFlows == 1)
                    #expect(proxy.statistics.udpFlowsOpened == 1)
                    #expect(proxy.statistics.datagramsRelayed == 6)
                }
            }
        }
    }

    @Test func idleFlowsAreClosedAndTheNextDatagramStartsANewOne() async throws {
        try await within {
            try await withBackends(1, udp: true, prefix: "u") { backends in
                try await withProxy(UserspaceProxyConfiguration(udpIdleTimeout: .milliseconds(200))) { proxy in
                    _ = await proxy.apply([servicePort("127.2.2.1", 20102, [backends[0].endpoint], transport: "udp")])
                    let target = try SocketAddress(ipAddress: "127.2.2.1", port: 20102)
                    try await withUDPClient { outbound, inbound, _ in
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "a")))
                        _ = try await inbound.next()
                        #expect(proxy.statistics.activeUDPFlows == 1)
                        let opened = ContinuousClock.now
                        try await eventually("the idle flow closed") { proxy.statistics.activeUDPFlows == 0 }
                        #expect(ContinuousClock.now - opened >= .milliseconds(150))
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "b")))
                        #expect(podName(String(buffer: try #require(try await inbound.next()).data)) == "u1")
                    }
                    #expect(proxy.statistics.udpFlowsOpened == 2)
                }
            }
        }
    }

    @Test func flowsAreBalancedOverTwoBackends() async throws {
        try await within {
            try await withBackends(2, udp: true, prefix: "u") { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.2.3.1", 20103, backends.map(\.endpoint), transport: "udp")])
                    let target = try SocketAddress(ipAddress: "127.2.3.1", port: 20103)
                    var answered: [String: Int] = [:]
                    for _ in 0..<4 {
                        let name = try await withUDPClient { outbound, inbound, _ in
                            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "x")))
                            return podName(String(buffer: try #require(try await inbound.next()).data)) ?? "?"
                        }
                        answered[name, default: 0] += 1
                    }
                    #expect(answered == ["u1": 2, "u2": 2])
                }
            }
        }
    }

    @Test func affinityKeepsAClientIPOnOneBackend() async throws {
        try await within {
            try await withBackends(3, udp: true, prefix: "u") { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.2.4.1", 20104, backends.map(\.endpoint), transport: "udp", affinity: 30)])
                    let target = try SocketAddress(ipAddress: "127.2.4.1", port: 20104)
                    var answered = Set<String>()
                    for _ in 0..<4 {
                        answered.insert(try await withUDPClient { outbound, inbound, _ in
                            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "x")))
                            return podName(String(buffer: try #require(try await inbound.next()).data)) ?? "?"
                        })
                    }
                    #expect(answered.count == 1)
                    #expect(proxy.statistics.udpFlowsOpened == 4)
                }
            }
        }
    }

    @Test func aFlowWhoseEndpointLeftIsClosed() async throws {
        try await within {
            try await withBackends(2, udp: true, prefix: "u") { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.2.5.1", 20105, [backends[0].endpoint], transport: "udp")])
                    let target = try SocketAddress(ipAddress: "127.2.5.1", port: 20105)
                    try await withUDPClient { outbound, inbound, _ in
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "x")))
                        #expect(podName(String(buffer: try #require(try await inbound.next()).data)) == "u1")
                        _ = await proxy.apply([servicePort("127.2.5.1", 20105, [backends[1].endpoint], transport: "udp")])
                        try await eventually("the flow to u1 closed") { proxy.statistics.activeUDPFlows == 0 }
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "y")))
                        #expect(podName(String(buffer: try #require(try await inbound.next()).data)) == "u2")
                    }
                }
            }
        }
    }

    @Test func datagramsOfFlowsBeyondTheLimitAreDropped() async throws {
        try await within {
            try await withBackends(1, udp: true, prefix: "u") { backends in
                try await withProxy(UserspaceProxyConfiguration(maxUDPFlows: 1)) { proxy in
                    _ = await proxy.apply([servicePort("127.2.6.1", 20106, [backends[0].endpoint], transport: "udp")])
                    let target = try SocketAddress(ipAddress: "127.2.6.1", port: 20106)
                    try await withUDPClient { outbound, inbound, _ in
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "x")))
                        _ = try await inbound.next()
                        try await withUDPClient { outbound2, _, _ in
                            try await outbound2.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: "y")))
                            try await eventually("the datagram dropped") { proxy.statistics.droppedDatagrams == 1 }
                        }
                    }
                    #expect(proxy.statistics.activeUDPFlows == 1)
                }
            }
        }
    }
}
