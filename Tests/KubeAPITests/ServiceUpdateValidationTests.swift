import IPAM
import KubeAPI
import Testing

/// `ValidateServiceUpdate` (k8s-service-validation.md §2.4, §4.2).
@Suite struct ServiceUpdateValidationTests {
    private let old = makeService {
        $0.metadata.uid = "uid-1"
        $0.metadata.resourceVersion = "10"
        $0.metadata.generation = 2
    }

    private func dualStack(_ configure: (inout Service) -> Void = { _ in }) -> Service {
        makeService {
            $0.metadata.uid = "uid-1"
            $0.spec.clusterIPs = ["10.96.0.10", "fd00::10"]
            $0.spec.ipFamilies = [.ipv4, .ipv6]
            $0.spec.ipFamilyPolicy = .requireDualStack
            configure(&$0)
        }
    }

    @Test func unchangedServiceIsValid() {
        #expect(messages(old.validateUpdate(from: old)) == [])
        var new = old
        new.spec.ports = [ServicePort(name: "http", protocol: .tcp, port: 8080, targetPort: 8080)]
        new.metadata.labels = ["tier": "web"]
        #expect(messages(new.validateUpdate(from: old)) == [])
    }

    @Test func clusterIPMayNotChange() {
        var new = old
        new.spec.clusterIP = "10.96.0.20"
        new.spec.clusterIPs = ["10.96.0.20"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.20"}: may not change once set"#
        ])
    }

    @Test func secondaryClusterIPMayNotChange() {
        let old = dualStack()
        var new = old
        new.spec.clusterIPs = ["10.96.0.10", "fd00::20"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[1]: Invalid value: []string{"10.96.0.10", "fd00::20"}: may not change once set"#
        ])
    }

    @Test func serviceCannotBeTurnedHeadless() {
        var new = old
        new.spec.clusterIP = "None"
        new.spec.clusterIPs = ["None"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set"#
        ])
    }

    @Test func headlessServiceCannotGetAClusterIP() {
        let old = makeHeadlessService { $0.spec.ports = [ServicePort(name: "http", port: 80)] }
        var new = old
        new.spec.clusterIP = "10.96.0.10"
        new.spec.clusterIPs = ["10.96.0.10"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.10"}: may not change once set"#
        ])
    }

    @Test func bothHeadlessSkipsTheClusterIPChecks() {
        let old = makeHeadlessService()
        var new = old
        new.spec.ipFamilies = [.ipv6]
        #expect(messages(new.validateUpdate(from: old)) == [])
    }

    @Test func externalNameOnEitherSideSkipsTheChecks() {
        let ext = makeExternalNameService { $0.metadata.name = "web" }
        var toExt = ext
        toExt.metadata.uid = old.metadata.uid
        toExt.metadata.generation = 2
        #expect(messages(toExt.validateUpdate(from: old)) == [])
        var fromExt = old
        fromExt.metadata.uid = nil
        fromExt.metadata.generation = nil
        #expect(messages(fromExt.validateUpdate(from: ext)) == [])
    }

    @Test func ipFamilyChangeUsesIndexZeroPathAndFamilySlice() {
        var new = old
        new.spec.ipFamilies = [.ipv6]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6"}: may not change once set"#,
            #"spec.clusterIPs[0]: Invalid value: "10.96.0.10": expected an IPv6 value as indicated by `ipFamilies[0]`"#,
        ])
    }

    @Test func swappedDualStackFamiliesReportIndexZeroTwice() {
        let old = dualStack()
        var new = old
        new.spec.ipFamilies = [.ipv6, .ipv4]
        let got = messages(new.validateUpdate(from: old))
        #expect(Array(got.prefix(2)) == [
            #"spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6", "IPv4"}: may not change once set"#,
            #"spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6", "IPv4"}: may not change once set"#,
        ])
    }

    @Test func releasingSecondaryClusterIPRequiresSingleStack() {
        let old = dualStack()
        var new = old
        new.spec.clusterIPs = ["10.96.0.10"]
        new.spec.ipFamilies = [.ipv4]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.ipFamilyPolicy: Invalid value: "RequireDualStack": must be set to 'SingleStack' when releasing the secondary clusterIP"#,
            #"spec.ipFamilyPolicy: Invalid value: "RequireDualStack": must be set to 'SingleStack' when releasing the secondary ipFamily"#,
        ])
        new.spec.ipFamilyPolicy = .singleStack
        #expect(messages(new.validateUpdate(from: old)) == [])
    }

    @Test func releasingSecondaryWithNilPolicyRendersNull() {
        let old = dualStack()
        var new = old
        new.spec.clusterIPs = ["10.96.0.10"]
        new.spec.ipFamilyPolicy = nil
        #expect(messages(new.validateUpdate(from: old)).first
            == "spec.ipFamilyPolicy: Invalid value: null: must be set to 'SingleStack' when releasing the secondary clusterIP")
    }

    @Test func primaryClusterIPCannotBeUnset() {
        let old = dualStack()
        var new = old
        new.spec.clusterIP = nil
        new.spec.clusterIPs = nil
        #expect(messages(new.validateUpdate(from: old)) == [
            "spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset"
        ])
    }

    @Test func downgradeWithChangedPrimary() {
        let old = dualStack()
        var new = old
        new.spec.clusterIP = "10.96.0.11"
        new.spec.clusterIPs = ["10.96.0.11"]
        new.spec.ipFamilies = [.ipv4]
        new.spec.ipFamilyPolicy = .singleStack
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set"#
        ])
    }

    @Test func upgradeKeepsPrimary() {
        var new = old
        new.spec.clusterIPs = ["10.96.0.10", "fd00::10"]
        new.spec.ipFamilies = [.ipv4, .ipv6]
        new.spec.ipFamilyPolicy = .preferDualStack
        #expect(messages(new.validateUpdate(from: old)) == [])

        new.spec.clusterIP = "10.96.0.11"
        new.spec.clusterIPs = ["10.96.0.11", "fd00::10"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11", "fd00::10"}: may not change once set"#
        ])
    }

    @Test func upgradeWithChangedPrimaryFamilyReportsClusterIPs() {
        var new = old
        new.spec.clusterIPs = ["10.96.0.10", "fd00::10"]
        new.spec.ipFamilies = [.ipv6, .ipv4]
        new.spec.ipFamilyPolicy = .preferDualStack
        #expect(Array(messages(new.validateUpdate(from: old)).prefix(1)) == [
            #"spec.ipFamilies[0]: Invalid value: []string{"10.96.0.10", "fd00::10"}: may not change once set"#
        ])
    }

    @Test(arguments: [
        ("name", "web2", #"metadata.name: Invalid value: "web2": field is immutable"#),
        ("namespace", "prod", #"metadata.namespace: Invalid value: "prod": field is immutable"#),
        ("uid", "uid-2", #"metadata.uid: Invalid value: "uid-2": field is immutable"#),
    ])
    func identityMetadataIsImmutable(_ field: String, _ value: String, _ expected: String) {
        var new = old
        switch field {
        case "name": new.metadata.name = value
        case "namespace": new.metadata.namespace = value
        default: new.metadata.uid = value
        }
        #expect(messages(new.validateUpdate(from: old)).contains(expected))
        #expect(messages(new.validateUpdate(from: old)).first == expected)
    }

    @Test func generationMayNotDecrease() {
        var new = old
        new.metadata.generation = 1
        #expect(messages(new.validateUpdate(from: old)) == ["metadata.generation: Invalid value: 1: must not be decremented"])
        new.metadata.generation = 3
        #expect(messages(new.validateUpdate(from: old)) == [])
    }

    @Test func noNewFinalizersWhileDeleting() {
        var deleting = old
        deleting.metadata.deletionTimestamp = Time(seconds: 1_700_000_000)
        deleting.metadata.finalizers = ["example.com/a"]
        var new = deleting
        new.metadata.finalizers = ["example.com/a", "example.com/b"]
        #expect(messages(new.validateUpdate(from: deleting)) == [
            #"metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}"#
        ])
    }

    @Test func loadBalancerClassMayNotChange() {
        let old = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.loadBalancerClass = "example.com/a"
        }
        var new = old
        new.spec.loadBalancerClass = "example.com/b"
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set"#
        ])
        new.spec.loadBalancerClass = nil
        #expect(messages(new.validateUpdate(from: old)) == ["spec.loadBalancerClass: Invalid value: null: may not change once set"])
    }

    @Test func healthCheckNodePortIsImmutableWhileNeeded() {
        let old = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.externalTrafficPolicy = .local
            $0.spec.healthCheckNodePort = 30001
        }
        var new = old
        new.spec.healthCheckNodePort = 30002
        #expect(messages(new.validateUpdate(from: old)) == ["spec.healthCheckNodePort: Forbidden: field is immutable"])
    }

    /// Label errors are found by both the metadata update check and `ValidateService`: the Status message shows
    /// them once, the causes twice (§3.3).
    @Test func duplicateErrorsAreDeduplicatedInMessageOnly() {
        var new = old
        new.metadata.labels = ["app": "-x"]
        let errors = new.validateUpdate(from: old)
        let expected = "metadata.labels: Invalid value: \"-x\": \(Msg.labelValue)"
        #expect(messages(errors) == [expected, expected])
        let status = Status.invalid(kind: "Service", name: "web", errors: errors)
        #expect(status.message == "Service \"web\" is invalid: \(expected)")
        #expect(status.details?.causes?.count == 2)
    }

    @Test func updateAlsoRunsCreateValidation() {
        var new = old
        new.spec.ports = [ServicePort(name: "http", protocol: "HTTP", port: 80, targetPort: 80)]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#
        ])
    }
}
