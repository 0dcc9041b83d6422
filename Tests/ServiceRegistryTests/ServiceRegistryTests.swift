import IPAM
import KubeAPI
import Testing
@testable import ServiceRegistry

func registry(_ cidrs: String = "10.96.0.0/16", seed: UInt64 = 1) throws -> ServiceRegistry {
    ServiceRegistry(allocator: try ClusterIPAllocator(serviceCIDRs: ClusterIPAllocator.parseServiceCIDRs(cidrs), seed: seed))
}

func service(
    _ name: String = "web", clusterIP: String? = nil, clusterIPs: [String]? = nil, type: ServiceType? = nil,
    selector: [String: String]? = ["app": "web"], ports: [ServicePort]? = [ServicePort(port: 80, targetPort: 8080)],
    families: [IPFamily]? = nil, policy: IPFamilyPolicy? = nil, externalName: String? = nil
) -> Service {
    Service(
        metadata: ObjectMeta(name: name, namespace: "default"),
        spec: ServiceSpec(
            type: type, selector: selector, ports: ports, clusterIP: clusterIP, clusterIPs: clusterIPs,
            ipFamilies: families, ipFamilyPolicy: policy, externalName: externalName))
}

/// The Status message a failing admission produced, or "admitted".
func failure(_ body: () throws(Status) -> ServiceChange) -> Status? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite struct ServiceCreateTests {
    @Test func clusterIPServiceGetsUpstreamShape() throws {
        var r = try registry("10.96.0.0/24")
        let s = try r.create(service()).service
        #expect(s.spec.type == .clusterIP)
        #expect(s.spec.ipFamilies == [.ipv4])
        #expect(s.spec.ipFamilyPolicy == .singleStack)
        #expect(s.spec.internalTrafficPolicy == .cluster)
        #expect(s.spec.sessionAffinity == ServiceAffinity.none)
        #expect(s.spec.clusterIPs == [s.spec.clusterIP!])
        #expect(s.status == ServiceStatus(loadBalancer: LoadBalancerStatus()))
        #expect(s.ports[0].protocol == .tcp)
        // Dynamic allocation comes from the upper band (.17–.254 on a /24).
        let last = Int(s.spec.clusterIP!.split(separator: ".").last!)!
        #expect((17...254).contains(last))
        #expect(r.allocator.isAllocated(IPAddress(s.spec.clusterIP!)!))
    }

    @Test func requestedIPAlreadyAllocated() throws {
        var r = try registry()
        _ = try r.create(service("a", clusterIP: "10.96.0.10"))
        let status = failure { () throws(Status) in try r.create(service("b", clusterIP: "10.96.0.10")) }
        #expect(status?.code == 422)
        #expect(status?.reason == .invalid)
        #expect(status?.message == #"Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated"#)
        #expect(status?.details?.causes?.first?.field == "spec.clusterIPs")
    }

    @Test func requestedIPOutOfRange() throws {
        var r = try registry()
        let status = failure { () throws(Status) in try r.create(service(clusterIP: "10.97.0.1")) }
        #expect(status?.message == #"Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.97.0.1"}: failed to allocate IP 10.97.0.1: the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16"#)
    }

    @Test func rangeFullIsInternalError() throws {
        var r = try registry("10.96.0.0/28")
        // 14 usable addresses, the first reserved for the kubernetes Service: 13 Services fit.
        for i in 0..<13 { _ = try r.create(service("s\(i)")) }
        let status = failure { () throws(Status) in try r.create(service("s13")) }
        #expect(status?.code == 500)
        #expect(status?.reason == .internalError)
        #expect(status?.message == "Internal error occurred: failed to allocate a serviceIP: range is full")
        #expect(status?.details?.causes == [StatusCause(message: "failed to allocate a serviceIP: range is full")])
    }

    @Test func allocationErrorsComeBeforeValidation() throws {
        var r = try registry()
        _ = try r.create(service("a", clusterIP: "10.96.0.10"))
        let bad = service("b", clusterIP: "10.96.0.10", ports: [ServicePort(port: 0)])
        let status = failure { () throws(Status) in try r.create(bad) }
        #expect(status?.details?.causes?.count == 1)
        #expect(status?.details?.causes?.first?.field == "spec.clusterIPs")
    }

    @Test func unparsableClusterIPReportsOnlyThat() throws {
        var r = try registry()
        let status = failure { () throws(Status) in try r.create(service(clusterIP: "abc", ports: [ServicePort(port: 0)])) }
        #expect(status?.message == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "abc": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#)
    }

    @Test func validationFailureLeaksNoAddress() throws {
        var r = try registry()
        let before = r.allocator.range(for: .ipv4)!.used
        let twoUnnamed = service(ports: [ServicePort(port: 80), ServicePort(port: 81)])
        let status = failure { () throws(Status) in try r.create(twoUnnamed) }
        #expect(status?.message == #"Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]"#)
        #expect(status?.details?.causes?.map(\.field) == ["spec.ports[0].name", "spec.ports[1].name"])
        #expect(r.allocator.range(for: .ipv4)!.used == before)
    }

    @Test func clusterIPOnlyFillsClusterIPs() throws {
        var r = try registry()
        let s = try r.create(service(clusterIP: "10.96.5.5")).service
        #expect(s.spec.clusterIPs == ["10.96.5.5"])
    }

    @Test func clusterIPsWithoutClusterIPRejected() throws {
        var r = try registry()
        let status = failure { () throws(Status) in try r.create(service(clusterIPs: ["10.96.5.5"])) }
        #expect(status?.message == #"Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.5.5"}: must be empty when `clusterIP` is not specified"#)
    }

    @Test func headlessWithSelectorIsSingleStack() throws {
        var r = try registry()
        let before = r.allocator.range(for: .ipv4)!.used
        let s = try r.create(service(clusterIP: "None")).service
        #expect(s.spec.clusterIPs == ["None"])
        #expect(s.spec.ipFamilyPolicy == .singleStack)
        #expect(s.spec.ipFamilies == [.ipv4])
        #expect(r.allocator.range(for: .ipv4)!.used == before)
    }

    @Test func headlessSelectorlessOnSingleStackGetsBothFamilies() throws {
        var r = try registry()
        let s = try r.create(service(clusterIP: "None", selector: nil)).service
        #expect(s.spec.ipFamilyPolicy == .requireDualStack)
        #expect(s.spec.ipFamilies == [.ipv4, .ipv6])
    }

    @Test func requireDualStackOnSingleStackCluster() throws {
        var r = try registry()
        let status = failure { () throws(Status) in try r.create(service(policy: .requireDualStack)) }
        #expect(status?.message == #"Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services"#)
    }

    @Test func unconfiguredFamily() throws {
        var r = try registry()
        let status = failure { () throws(Status) in try r.create(service(families: [.ipv6])) }
        #expect(status?.message == #"Service "web" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster"#)
        let viaIP = failure { () throws(Status) in try r.create(service(clusterIP: "fd00::10")) }
        #expect(viaIP?.message == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: IPv6 is not configured on this cluster"#)
    }

    @Test func singleStackWithTwoIPs() throws {
        var r = try registry("10.96.0.0/16,fd00::/108")
        let status = failure { () throws(Status) in
            try r.create(service(clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10", "fd00::10"], policy: .singleStack))
        }
        #expect(status?.message == #"Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "SingleStack": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"#)
    }

    @Test func dualStackCluster() throws {
        var r = try registry("10.96.0.0/16,fd00::/108")
        let prefer = try r.create(service("a", policy: .preferDualStack)).service
        #expect(prefer.spec.ipFamilies == [.ipv4, .ipv6])
        #expect(prefer.spec.clusterIPs?.count == 2)
        #expect(IPAddress(prefer.spec.clusterIPs![1])?.family == .ipv6)
        let v6first = try r.create(service("b", families: [.ipv6, .ipv4], policy: .requireDualStack)).service
        #expect(IPAddress(v6first.spec.clusterIP!)?.family == .ipv6)
        let single = try r.create(service("c")).service
        #expect(single.spec.ipFamilies == [.ipv4])
        #expect(single.spec.clusterIPs?.count == 1)
    }

    @Test func externalNameGetsNoIP() throws {
        var r = try registry()
        let s = try r.create(service(type: .externalName, selector: nil, ports: nil, externalName: "example.com")).service
        #expect(s.spec.clusterIP == nil)
        #expect(s.spec.ipFamilies == nil)
        #expect(s.spec.ipFamilyPolicy == nil)
        #expect(s.spec.internalTrafficPolicy == nil)
    }

    @Test func dryRunAllocatesNothing() throws {
        var r = try registry()
        let before = r.allocator.range(for: .ipv4)!.used
        let change = try r.create(service(), dryRun: true)
        #expect(change.service.spec.clusterIP == "10.96.0.0")
        #expect(change.allocated.isEmpty)
        _ = try r.create(service("b", clusterIP: "10.96.0.10"), dryRun: true)
        #expect(r.allocator.range(for: .ipv4)!.used == before)
        let outside = failure { () throws(Status) in try r.create(service("c", clusterIP: "10.99.0.1"), dryRun: true) }
        #expect(outside?.message?.contains("is not in the valid range") == true)
    }

    @Test func revertReleases() throws {
        var r = try registry()
        let change = try r.create(service())
        r.revert(change)
        #expect(!r.allocator.isAllocated(IPAddress(change.service.spec.clusterIP!)!))
    }

    @Test func kubernetesServiceTakesFirstAddress() throws {
        var r = try registry()
        let k = try r.create(r.kubernetesService(targetPort: 6443)).service
        #expect(k.spec.clusterIP == "10.96.0.1")
        #expect(k.ports.first?.name == "https")
        #expect(k.ports.first?.port == 443)
        #expect(k.selector == nil)
    }
}

@Suite struct ServiceUpdateTests {
    @Test func reappliedManifestKeepsAllocatedIP() throws {
        var r = try registry()
        let stored = try r.create(service()).service
        var manifest = service()
        manifest.metadata.labels = ["tier": "web"]
        let updated = try r.update(manifest, from: stored).service
        #expect(updated.spec.clusterIP == stored.spec.clusterIP)
        #expect(updated.spec.clusterIPs == stored.spec.clusterIPs)
        #expect(updated.labels == ["tier": "web"])
    }

    @Test func clusterIPMayNotChange() throws {
        var r = try registry()
        let stored = try r.create(service(clusterIP: "10.96.0.10")).service
        let status = failure { () throws(Status) in try r.update(service(clusterIP: "10.96.0.20"), from: stored) }
        #expect(status?.message == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.20"}: may not change once set"#)
    }

    @Test func cannotTurnHeadless() throws {
        var r = try registry()
        let stored = try r.create(service()).service
        let status = failure { () throws(Status) in try r.update(service(clusterIP: "None"), from: stored) }
        #expect(status?.message?.contains("may not change once set") == true)
    }

    @Test func toExternalNameReleasesOnCommit() throws {
        var r = try registry()
        let stored = try r.create(service()).service
        let ip = IPAddress(stored.spec.clusterIP!)!
        var external = stored
        external.spec.type = .externalName
        external.spec.externalName = "example.com"
        let change = try r.update(external, from: stored)
        #expect(change.service.spec.clusterIP == nil)
        #expect(change.service.spec.clusterIPs == nil)
        #expect(change.service.spec.ipFamilies == nil)
        #expect(change.service.spec.ipFamilyPolicy == nil)
        #expect(change.toRelease == [ip])
        #expect(r.allocator.isAllocated(ip))
        r.commit(change)
        #expect(!r.allocator.isAllocated(ip))
    }

    @Test func fromExternalNameAllocates() throws {
        var r = try registry()
        let stored = try r.create(service(type: .externalName, selector: nil, ports: nil, externalName: "example.com")).service
        let change = try r.update(service(type: .clusterIP), from: stored)
        #expect(change.service.spec.clusterIP != nil)
        #expect(change.allocated.count == 1)
        #expect(change.service.spec.ipFamilies == [.ipv4])
    }

    @Test func upgradeToDualStackAllocatesSecondary() throws {
        var r = try registry("10.96.0.0/16,fd00::/108")
        let stored = try r.create(service()).service
        var upgraded = stored
        upgraded.spec.ipFamilyPolicy = .preferDualStack
        let change = try r.update(upgraded, from: stored)
        #expect(change.service.spec.ipFamilies == [.ipv4, .ipv6])
        #expect(change.service.spec.clusterIPs?.first == stored.spec.clusterIP)
        #expect(change.service.spec.clusterIPs?.count == 2)
        #expect(change.allocated.count == 1)
    }

    @Test func downgradeRequiresSingleStackAndReleasesOnCommit() throws {
        var r = try registry("10.96.0.0/16,fd00::/108")
        let stored = try r.create(service(policy: .requireDualStack)).service
        var dropped = stored
        dropped.spec.clusterIPs = [stored.spec.clusterIPs![0]]
        let status = failure { () throws(Status) in try r.update(dropped, from: stored) }
        #expect(status?.message == #"Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": must be 'SingleStack' to release the secondary cluster IP"#)

        var single = stored
        single.spec.ipFamilyPolicy = .singleStack
        let change = try r.update(single, from: stored)
        #expect(change.service.spec.clusterIPs == [stored.spec.clusterIPs![0]])
        #expect(change.service.spec.ipFamilies == [.ipv4])
        let secondary = IPAddress(stored.spec.clusterIPs![1])!
        #expect(change.toRelease == [secondary])
        r.commit(change)
        #expect(!r.allocator.isAllocated(secondary))
    }

    @Test func preferDualStackIsNotUpgradedBehindTheUsersBack() throws {
        // Created on a single-stack cluster, read on a dual-stack one: an unchanged update keeps one family.
        var single = try registry("10.96.0.0/16")
        let stored = try single.create(service(policy: .preferDualStack)).service
        #expect(stored.spec.ipFamilies == [.ipv4])
        var dual = try registry("10.96.0.0/16,fd00::/108")
        dual.repair(from: [stored])
        let change = try dual.update(stored, from: stored)
        #expect(change.service.spec.ipFamilies == [.ipv4])
        #expect(change.allocated.isEmpty)
    }
}

@Suite struct ServiceDeleteAndRepairTests {
    @Test func deleteReleasesOnCommit() throws {
        var r = try registry()
        let stored = try r.create(service()).service
        let change = r.delete(stored)
        #expect(r.allocator.isAllocated(IPAddress(stored.spec.clusterIP!)!))
        r.commit(change)
        #expect(!r.allocator.isAllocated(IPAddress(stored.spec.clusterIP!)!))
        #expect(r.delete(try r.create(service("h", clusterIP: "None")).service).toRelease.isEmpty)
    }

    @Test func repairNeverHandsOutHeldAddresses() throws {
        var first = try registry("10.96.0.0/28")
        var stored: [Service] = []
        for i in 0..<6 { stored.append(try first.create(service("s\(i)")).service) }
        var restarted = try registry("10.96.0.0/28", seed: 99)
        let report = restarted.repair(from: stored)
        #expect(report.problems.isEmpty)
        #expect(report.restored == 6)
        let held = Set(stored.map { $0.spec.clusterIP! })
        var handedOut: Set<String> = []
        while let next = try? restarted.create(service("n\(handedOut.count)")).service.spec.clusterIP! { handedOut.insert(next) }
        #expect(handedOut.isDisjoint(with: held))
        #expect(handedOut.count == 13 - 6)
    }
}
