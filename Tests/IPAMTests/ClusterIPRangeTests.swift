import Testing
@testable import IPAM

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private func cidr(_ s: String) -> CIDR { CIDR(s)! }

@Suite struct StaticBandTests {
    // KEP-3070: offset = min(max(16, size/16), 256), 0 when the CIDR has 16 addresses or fewer.
    @Test(arguments: [
        ("10.96.0.0/24", 16), ("10.96.0.0/20", 256), ("10.96.0.0/12", 256), ("10.96.0.0/16", 256),
        ("10.96.0.0/28", 0), ("10.96.0.0/27", 16), ("10.96.0.0/29", 0), ("10.96.0.0/21", 128),
        ("fd00::/112", 256), ("fd00::/120", 16), ("fd00::/64", 256), ("fd00::/124", 0),
    ])
    func offset(_ range: String, _ expected: Int) {
        #expect(ClusterIPRange.staticBandSize(cidr(range)) == expected)
    }

    @Test(arguments: [
        ("10.96.0.0/24", 254), ("10.96.0.0/28", 14), ("10.96.0.0/30", 2), ("10.96.0.0/31", 0),
        ("10.96.0.0/32", 0), ("10.96.0.0/12", 1_048_574), ("fd00::/112", 65_535), ("fd00::/64", 65_535),
        ("fd00::/126", 3),
    ])
    func usableSize(_ range: String, _ expected: Int) {
        #expect(ClusterIPRange.usableSize(cidr(range)) == expected)
    }

    @Test func slash24StaticBandIsDot1ToDot16() throws {
        var r = ClusterIPRange(cidr: cidr("10.96.0.0/24"), seed: 1)
        // Every dynamic allocation lands in .17–.254 while that band has room.
        for _ in 0..<(254 - 16) {
            let a = try r.allocateNext()
            let last = Int(a.description.split(separator: ".").last!)!
            #expect((17...254).contains(last), "\(a)")
        }
        // Then the static band, never .1 (reserved for the kubernetes Service).
        var lower: Set<String> = []
        for _ in 0..<15 { lower.insert(try r.allocateNext().description) }
        #expect(lower == Set((2...16).map { "10.96.0.\($0)" }))
        #expect(throws: ClusterIPAllocationError.rangeFull) { try r.allocateNext() }
        #expect(ClusterIPAllocationError.rangeFull.description == "range is full")
        try r.allocate(ip("10.96.0.1"))
        #expect(r.free == 0)
    }
}

@Suite struct ClusterIPRangeTests {
    @Test func specificAllocationErrors() throws {
        var r = ClusterIPRange(cidr: cidr("10.96.0.0/24"), seed: 7)
        try r.allocate(ip("10.96.0.10"))
        #expect(throws: ClusterIPAllocationError.alreadyAllocated(ip("10.96.0.10"))) { try r.allocate(ip("10.96.0.10")) }
        #expect(ClusterIPAllocationError.alreadyAllocated(ip("10.96.0.10")).description == "provided IP is already allocated")
        for outside in ["10.97.0.1", "10.96.0.0", "10.96.0.255", "fd00::1"] {
            #expect(throws: ClusterIPAllocationError.notInRange(ip(outside), validRange: cidr("10.96.0.0/24"))) {
                try r.allocate(ip(outside))
            }
        }
        #expect(
            ClusterIPAllocationError.notInRange(ip("10.97.0.1"), validRange: cidr("10.96.0.0/24")).description
                == "the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/24")
    }

    @Test func releaseMakesAddressReusable() throws {
        var r = ClusterIPRange(cidr: cidr("10.96.0.0/29"), seed: 3)
        var got: [IPAddress] = []
        while let a = try? r.allocateNext() { got.append(a) }
        #expect(got.count == 5) // 6 usable minus the reserved first
        #expect(!got.contains(ip("10.96.0.1")))
        r.release(got[2])
        #expect(try r.allocateNext() == got[2])
        r.release(ip("10.1.1.1")) // foreign: ignored
        #expect(r.used == 5)
    }

    @Test func ipv6LastAddressUsable() throws {
        var r = ClusterIPRange(cidr: cidr("fd00::/112"), seed: 3)
        try r.allocate(ip("fd00::ffff"))
        #expect(throws: ClusterIPAllocationError.self) { try r.allocate(ip("fd00::")) }
        #expect(throws: ClusterIPAllocationError.self) { try r.allocate(ip("fd00::1:0")) }
    }

    @Test func largeIPv6RangeCappedAt65535() throws {
        var r = ClusterIPRange(cidr: cidr("fd00::/64"), seed: 3)
        #expect(r.size == 65_535)
        try r.allocate(ip("fd00::ffff"))
        #expect(throws: ClusterIPAllocationError.self) { try r.allocate(ip("fd00::1:0")) }
    }

    @Test func sameSeedSameSequence() throws {
        var a = ClusterIPRange(cidr: cidr("10.96.0.0/16"), seed: 42)
        var b = ClusterIPRange(cidr: cidr("10.96.0.0/16"), seed: 42)
        for _ in 0..<100 { let x = try a.allocateNext(); let y = try b.allocateNext(); #expect(x == y) }
    }

    @Test func fillsSlash12Completely() throws {
        var r = ClusterIPRange(cidr: cidr("10.96.0.0/12"), seed: 9)
        var n = 0
        while (try? r.allocateNext()) != nil { n += 1 }
        #expect(n == 1_048_574 - 1)
        #expect(r.free == 1)
        #expect(!r.isAllocated(ip("10.96.0.1")))
    }
}

@Suite struct AllocationBitmapTests {
    @Test func firstFreeMatchesModel() {
        var rng = SplitMix64(seed: 11)
        for capacity in [1, 63, 64, 65, 130, 4096 + 7, 70_000] {
            var bitmap = AllocationBitmap(capacity: capacity)
            var model = Set<Int>()
            for _ in 0..<(capacity * 2) {
                let slot = Int(rng.next(upperBound: UInt64(capacity)))
                if rng.next() % 3 == 0 {
                    #expect(bitmap.remove(slot) == model.remove(slot).map { _ in true } ?? false)
                } else {
                    #expect(bitmap.insert(slot) == model.insert(slot).inserted)
                }
                let lo = Int(rng.next(upperBound: UInt64(capacity)))
                let hi = lo + Int(rng.next(upperBound: UInt64(capacity - lo + 1)))
                let expected = (lo..<hi).first { !model.contains($0) }
                #expect(bitmap.firstFree(in: lo..<hi) == expected)
            }
            #expect(bitmap.count == model.count)
            #expect(bitmap.members == model.sorted())
        }
    }

    @Test func fullBitmapHasNoFree() {
        var b = AllocationBitmap(capacity: 200)
        for i in 0..<200 { b.insert(i) }
        #expect(b.firstFree(in: 0..<200) == nil)
        b.remove(130)
        #expect(b.firstFree(in: 0..<200) == 130)
        #expect(b.firstFree(in: 131..<200) == nil)
    }
}

@Suite struct ClusterIPAllocatorTests {
    @Test func dualStack() throws {
        var a = try ClusterIPAllocator(serviceCIDRs: [cidr("10.96.0.0/16"), cidr("fd00::/112")], seed: 1)
        #expect(a.isDualStack)
        #expect(a.primaryFamily == .ipv4)
        #expect(a.kubernetesServiceIP == ip("10.96.0.1"))
        let v6 = try a.allocateNext(family: .ipv6)
        #expect(v6.family == .ipv6)
        #expect(a.isAllocated(v6))
        a.release(v6)
        #expect(!a.isAllocated(v6))
    }

    @Test func familyNotConfigured() throws {
        var a = try ClusterIPAllocator(serviceCIDRs: [cidr("10.96.0.0/16")])
        #expect(throws: ClusterIPAllocationError.familyNotConfigured(.ipv6)) { try a.allocateNext(family: .ipv6) }
    }

    @Test func validatesServiceCIDRs() throws {
        #expect(throws: ServiceCIDRError.tooLarge(cidr("10.0.0.0/11"), minimumPrefix: 12)) {
            try ClusterIPAllocator(serviceCIDRs: [cidr("10.0.0.0/11")])
        }
        #expect(throws: ServiceCIDRError.tooLarge(cidr("fd00::/64"), minimumPrefix: 108)) {
            try ClusterIPAllocator(serviceCIDRs: [cidr("fd00::/64")])
        }
        #expect(throws: ServiceCIDRError.sameFamily(cidr("10.0.0.0/16"), cidr("10.1.0.0/16"))) {
            try ClusterIPAllocator(serviceCIDRs: [cidr("10.0.0.0/16"), cidr("10.1.0.0/16")])
        }
        #expect(throws: ServiceCIDRError.tooSmall(cidr("10.0.0.0/31"))) {
            try ClusterIPAllocator(serviceCIDRs: [cidr("10.0.0.0/31")])
        }
        #expect(throws: ServiceCIDRError.self) { try ClusterIPAllocator.parseServiceCIDRs("10.96.0.0/12,nope") }
        #expect(try ClusterIPAllocator.parseServiceCIDRs("10.96.0.0/12, fd00::/108").count == 2)
    }

    @Test func repairRestoresAndReports() throws {
        var a = try ClusterIPAllocator(serviceCIDRs: [cidr("10.96.0.0/28")], seed: 5)
        let report = a.repair(from: [
            ClusterIPClaim(owner: "default/kubernetes", clusterIPs: ["10.96.0.1"]),
            ClusterIPClaim(owner: "default/a", clusterIPs: ["10.96.0.5"]),
            ClusterIPClaim(owner: "default/b", clusterIPs: ["10.96.0.5"]),
            ClusterIPClaim(owner: "default/c", clusterIPs: ["10.200.0.5"]),
            ClusterIPClaim(owner: "default/d", clusterIPs: ["banana"]),
            ClusterIPClaim(owner: "default/headless", clusterIPs: ["None"]),
            ClusterIPClaim(owner: "default/e", clusterIPs: ["10.96.0.9"]),
        ])
        #expect(report.restored == 3)
        #expect(report.problems == [
            .duplicate(ip: ip("10.96.0.5"), owner: "default/b", heldBy: "default/a"),
            .notInRange(ip: ip("10.200.0.5"), owner: "default/c", serviceCIDRs: [cidr("10.96.0.0/28")]),
            .invalid(ip: "banana", owner: "default/d"),
        ])
        #expect(report.problems[0].description.contains("was assigned to multiple services"))
        #expect(report.problems[1].description.contains("is not within the configured Service CIDR 10.96.0.0/28"))
        // Nothing a Service holds is ever handed out.
        var handedOut: Set<IPAddress> = []
        while let next = try? a.allocateNext(family: .ipv4) { handedOut.insert(next) }
        #expect(handedOut.count == 14 - 3)
        #expect(handedOut.isDisjoint(with: [ip("10.96.0.1"), ip("10.96.0.5"), ip("10.96.0.9")]))
    }
}
