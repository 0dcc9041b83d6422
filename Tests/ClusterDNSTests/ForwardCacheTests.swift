import DNSWire
import Testing
@testable import ClusterDNS

struct ForwardCacheTests {
    static let question = DNSQuestion(name: try! DNSName("www.example.com"), type: .a)

    static func answer(ttl: UInt32) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(id: 1, isResponse: true, recursionAvailable: true), questions: [question],
            answers: [DNSResourceRecord(name: question.name, ttl: ttl, rdata: .ipv4(192, 0, 2, 1))])
    }

    @Test func aHitCountsItsTTLDown() throws {
        let cache = ForwardCache()
        let start = ContinuousClock.now
        cache.store(Self.question, Self.answer(ttl: 60), now: start)
        let hit = try #require(cache.lookup(Self.question, now: start + .seconds(10)))
        #expect(hit.answers.first?.ttl == 50)
        #expect(cache.lookup(Self.question, now: start + .seconds(61)) == nil)
    }

    @Test func theQuestionMatchesWhateverItsCase() {
        let cache = ForwardCache()
        cache.store(Self.question, Self.answer(ttl: 60))
        #expect(cache.lookup(DNSQuestion(name: try! DNSName("WWW.Example.COM"), type: .a)) != nil)
        #expect(cache.lookup(DNSQuestion(name: try! DNSName("www.example.com"), type: .aaaa)) == nil)
    }

    @Test func negativeAnswersLastAsTheirSOASays() throws {
        let soa = DNSResourceRecord(
            name: try DNSName("example.com"), ttl: 900,
            rdata: .soa(mname: try DNSName("ns.example.com"), rname: try DNSName("h.example.com"), serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 120))
        let nx = DNSMessage(header: DNSHeader(id: 1, isResponse: true, rcode: .nxDomain), questions: [Self.question], authorities: [soa])
        #expect(ForwardCache.cacheTTL(nx) == 120)
        let servfail = DNSMessage(header: DNSHeader(id: 1, isResponse: true, rcode: .servFail), questions: [Self.question])
        #expect(ForwardCache.cacheTTL(servfail) == nil)
        #expect(ForwardCache.cacheTTL(Self.answer(ttl: 1)) == 5, "at least 5 s")
        #expect(ForwardCache.cacheTTL(Self.answer(ttl: 86400)) == 3600, "at most an hour")
        #expect(ForwardCache.cacheTTL(Self.answer(ttl: 0)) == nil, "TTL 0 means do not cache")
    }

    @Test func aFullCacheEvicts() {
        let cache = ForwardCache(capacity: 10)
        for i in 0..<20 { cache.store(DNSQuestion(name: try! DNSName("n\(i).example.com"), type: .a), Self.answer(ttl: 60)) }
        #expect(cache.count == 10)
    }
}
