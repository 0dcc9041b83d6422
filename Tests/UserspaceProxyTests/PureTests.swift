import IPAM
import ProxyCore
import Testing
@testable import UserspaceProxy

@Suite struct LoopbackMappingTests {
    @Test func ipv4KeepsTheLow24Bits() {
        #expect(LoopbackMapping.address(for: IPAddress("10.96.0.10")!) == IPAddress("127.96.0.10"))
        #expect(LoopbackMapping.address(for: IPAddress("10.96.255.1")!) == IPAddress("127.96.255.1"))
        #expect(LoopbackMapping.address(for: IPAddress("172.20.3.4")!) == IPAddress("127.20.3.4"))
        #expect(LoopbackMapping.address(for: IPAddress("127.0.5.1")!) == IPAddress("127.0.5.1"))
    }

    @Test func ipv6HasNoFallback() {
        #expect(LoopbackMapping.address(for: IPAddress("fd00:10:96::a")!) == nil)
    }

    @Test func privilegedPortsMoveUp() {
        #expect(LoopbackMapping.unprivilegedPort(for: 80) == 10080)
        #expect(LoopbackMapping.unprivilegedPort(for: 1) == 10001)
        #expect(LoopbackMapping.unprivilegedPort(for: 1023) == 11023)
        #expect(LoopbackMapping.unprivilegedPort(for: 1024) == 1024)
        #expect(LoopbackMapping.unprivilegedPort(for: 8080) == 8080)
        #expect(LoopbackMapping.isPrivileged(443))
        #expect(!LoopbackMapping.isPrivileged(1024))
    }
}

@Suite struct EndpointChooserTests {
    static let a = EndpointTarget(address: IPAddress("10.0.0.1")!, port: 80)
    static let b = EndpointTarget(address: IPAddress("10.0.0.2")!, port: 80)
    static let c = EndpointTarget(address: IPAddress("10.0.0.3")!, port: 80)
    let start = ContinuousClock.now

    @Test func roundRobinRotatesAndTriesEveryOtherEndpointOnce() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b, Self.c], balancing: .roundRobin, affinityTimeout: nil)
        #expect(chooser.attemptOrder(client: "1.1.1.1", now: start) == [Self.a, Self.b, Self.c])
        #expect(chooser.attemptOrder(client: "1.1.1.1", now: start) == [Self.b, Self.c, Self.a])
        #expect(chooser.attemptOrder(client: "1.1.1.1", now: start) == [Self.c, Self.a, Self.b])
        #expect(chooser.attemptOrder(client: nil, now: start) == [Self.a, Self.b, Self.c])
    }

    @Test func updateKeepsTheRotationInRange() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b, Self.c], balancing: .roundRobin, affinityTimeout: nil)
        _ = chooser.attemptOrder(client: nil, now: start)
        _ = chooser.attemptOrder(client: nil, now: start)
        chooser.update(endpoints: [Self.a, Self.b], affinityTimeout: nil)
        #expect(chooser.attemptOrder(client: nil, now: start).count == 2)
        chooser.update(endpoints: [], affinityTimeout: nil)
        #expect(chooser.attemptOrder(client: nil, now: start).isEmpty)
    }

    @Test func randomSpreadsOverEveryEndpoint() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b, Self.c], balancing: .random, affinityTimeout: nil)
        var counts: [EndpointTarget: Int] = [:]
        for _ in 0..<3000 {
            let order = chooser.attemptOrder(client: nil, now: start)
            #expect(Set(order) == [Self.a, Self.b, Self.c])
            counts[order[0], default: 0] += 1
        }
        // Binomial(3000, 1/3): mean 1000, sd ≈ 26; 800 is more than 7 sd away.
        for endpoint in [Self.a, Self.b, Self.c] { #expect(counts[endpoint, default: 0] > 800) }
    }

    @Test func affinityPinsRefreshesAndExpires() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b, Self.c], balancing: .roundRobin, affinityTimeout: .seconds(10))
        let first = chooser.attemptOrder(client: "1.1.1.1", now: start)[0]
        chooser.connected(client: "1.1.1.1", to: first, now: start)
        // Another client moves the rotation on; the pinned one comes back to its endpoint.
        _ = chooser.attemptOrder(client: "2.2.2.2", now: start)
        for second in [3, 9, 15] {
            let now = start + .seconds(second)
            #expect(chooser.attemptOrder(client: "1.1.1.1", now: now)[0] == first)
            chooser.connected(client: "1.1.1.1", to: first, now: now)
        }
        // 15 s in, refreshed at 15 s: still pinned at 24 s, gone at 26 s.
        #expect(chooser.pinned("1.1.1.1", now: start + .seconds(24)) == first)
        #expect(chooser.pinned("1.1.1.1", now: start + .seconds(26)) == nil)
        let later = chooser.attemptOrder(client: "1.1.1.1", now: start + .seconds(26))
        #expect(later.count == 3)
        #expect(chooser.pins["1.1.1.1"] == nil)
    }

    @Test func pinsToAnEndpointThatLeftAreForgotten() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b], balancing: .roundRobin, affinityTimeout: .seconds(100))
        chooser.connected(client: "1.1.1.1", to: Self.b, now: start)
        #expect(chooser.attemptOrder(client: "1.1.1.1", now: start)[0] == Self.b)
        chooser.update(endpoints: [Self.a, Self.c], affinityTimeout: .seconds(100))
        #expect(chooser.pins.isEmpty)
        #expect(chooser.attemptOrder(client: "1.1.1.1", now: start)[0] != Self.b)
    }

    @Test func thePinTableIsBounded() {
        var chooser = EndpointChooser(endpoints: [Self.a, Self.b], balancing: .roundRobin, affinityTimeout: .seconds(10), maxPins: 3)
        for client in 1...5 { chooser.connected(client: "10.1.1.\(client)", to: Self.a, now: start) }
        #expect(chooser.pins.count == 3)
        // Once the first pins expired, new clients are pinned again.
        chooser.connected(client: "10.1.1.9", to: Self.b, now: start + .seconds(11))
        #expect(chooser.pinned("10.1.1.9", now: start + .seconds(11)) == Self.b)
        #expect(chooser.pins.count == 1)
    }

    @Test func descriptorsNeeded() {
        #expect(UserspaceProxy.descriptorsNeeded(UserspaceProxyConfiguration()) == 30_064)
        #expect(UserspaceProxyConfiguration().maxConnections == 10_000)
    }
}
