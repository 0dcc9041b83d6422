import IPAM
import KubeAPI
import Testing

/// `ValidateService` (k8s-service-validation.md §2.2, §2.3).
@Suite struct ServiceValidationTests {
    @Test func baselineServicesAreValid() {
        #expect(messages(makeService().validate()) == [])
        #expect(messages(makeHeadlessService().validate()) == [])
        #expect(messages(makeExternalNameService().validate()) == [])
        let lb = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.ports = [ServicePort(name: "http", port: 80, nodePort: 30080)]
        }
        #expect(messages(lb.validate()) == [])
        let dual = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "fd00::10"]
            $0.spec.ipFamilies = [.ipv4, .ipv6]
            $0.spec.ipFamilyPolicy = .requireDualStack
        }
        #expect(messages(dual.validate()) == [])
    }

    // MARK: Ports (§2.2 (3), (5), (11)–(13))

    @Test func twoUnnamedPortsEachNeedAName() {
        let svc = makeService { $0.spec.ports = [ServicePort(port: 80), ServicePort(port: 443)] }
        #expect(messages(svc.validate()) == ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"])
    }

    @Test func oneUnnamedPortIsFine() {
        let svc = makeService { $0.spec.ports = [ServicePort(port: 80)] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func duplicatePortNames() {
        let svc = makeService {
            $0.spec.ports = [ServicePort(name: "http", port: 80), ServicePort(name: "http", port: 8080)]
        }
        #expect(messages(svc.validate()) == [#"spec.ports[1].name: Duplicate value: "http""#])
    }

    @Test(arguments: [
        ("Http", Msg.dns1123Label),
        ("a.b", "must not contain dots"),
        ("-web", Msg.dns1123Label),
        ("web_port", Msg.dns1123Label),
        (String(repeating: "a", count: 64), Msg.maxLen(63)),
    ])
    func portNameMustBeDNS1123Label(_ name: String, _ message: String) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: name, port: 80)] }
        #expect(messages(svc.validate()) == ["spec.ports[0].name: Invalid value: \"\(name)\": \(message)"])
    }

    @Test func portNameLongerThan63AndBadShapeGetsBothMessages() {
        let name = String(repeating: "a", count: 63) + "-"
        let svc = makeService { $0.spec.ports = [ServicePort(name: name, port: 80)] }
        #expect(messages(svc.validate()) == [
            "spec.ports[0].name: Invalid value: \"\(name)\": \(Msg.maxLen(63))",
            "spec.ports[0].name: Invalid value: \"\(name)\": \(Msg.dns1123Label)",
        ])
    }

    @Test func duplicateCheckRunsEvenForInvalidNames() {
        let svc = makeService {
            $0.spec.ports = [ServicePort(name: "Http", port: 80), ServicePort(name: "Http", port: 81)]
        }
        #expect(messages(svc.validate()) == [
            "spec.ports[0].name: Invalid value: \"Http\": \(Msg.dns1123Label)",
            "spec.ports[1].name: Invalid value: \"Http\": \(Msg.dns1123Label)",
            #"spec.ports[1].name: Duplicate value: "Http""#,
        ])
    }

    @Test(arguments: [0, -1, 65536, 100_000] as [Int32])
    func portOutOfRangeAlsoFailsDefaultedTargetPort(_ port: Int32) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: port)] }
        #expect(messages(svc.validate()) == [
            "spec.ports[0].port: Invalid value: \(port): \(Msg.portRange)",
            "spec.ports[0].targetPort: Invalid value: \(port): \(Msg.portRange)",
        ])
    }

    @Test(arguments: [1, 65535] as [Int32])
    func portBoundsAreValid(_ port: Int32) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: port)] }
        #expect(messages(svc.validate()) == [])
    }

    @Test(arguments: ["HTTP", "tcp", "ICMP"])
    func unsupportedProtocol(_ proto: String) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "x", protocol: TransportProtocol(rawValue: proto), port: 80)] }
        #expect(messages(svc.validate()) == [
            "spec.ports[0].protocol: Unsupported value: \"\(proto)\": supported values: \"SCTP\", \"TCP\", \"UDP\""
        ])
    }

    @Test(arguments: [TransportProtocol.tcp, .udp, .sctp])
    func supportedProtocols(_ proto: TransportProtocol) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "x", protocol: proto, port: 80)] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func emptyProtocolAfterDefaultingIsRequired() {
        let svc = makeDefaultedService { $0.spec.ports![0].protocol = TransportProtocol(rawValue: "") }
        #expect(messages(svc.validate()) == ["spec.ports[0].protocol: Required value"])
    }

    @Test(arguments: [-1, 65536, 70000] as [Int32])
    func numericTargetPortRange(_ target: Int32) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: 80, targetPort: .int(target))] }
        #expect(messages(svc.validate()) == ["spec.ports[0].targetPort: Invalid value: \(target): \(Msg.portRange)"])
    }

    @Test(arguments: [
        ("80", [Msg.portLetter]),
        ("HTTP", [Msg.portCharset, Msg.portLetter]),
        ("Http", [Msg.portCharset]),
        ("my_port", [Msg.portCharset]),
        ("a--b", [Msg.portConsecutiveHyphens]),
        ("-web", [Msg.portHyphenEnds]),
        ("web-", [Msg.portHyphenEnds]),
        ("abcdefghijklmnop", [Msg.maxLen(15)]),
        ("--", [Msg.portLetter, Msg.portConsecutiveHyphens, Msg.portHyphenEnds]),
    ])
    func namedTargetPortFollowsIANASvcName(_ target: String, _ expected: [String]) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: 80, targetPort: .string(target))] }
        #expect(messages(svc.validate()) == expected.map { "spec.ports[0].targetPort: Invalid value: \"\(target)\": \($0)" })
    }

    @Test(arguments: ["http", "web-8080", "abcdefghijklmno"])
    func validNamedTargetPorts(_ target: String) {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: 80, targetPort: .string(target))] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func appProtocolMustBeQualifiedName() {
        let ok = makeService { $0.spec.ports = [ServicePort(name: "h2", appProtocol: "kubernetes.io/h2c", port: 80)] }
        #expect(messages(ok.validate()) == [])
        let bad = makeService { $0.spec.ports = [ServicePort(name: "h2", appProtocol: "-bad", port: 80)] }
        #expect(messages(bad.validate()) == ["spec.ports[0].appProtocol: Invalid value: \"-bad\": \(Msg.qualifiedNamePart)"])
    }

    @Test func duplicateProtocolAndPortRendersCoreServicePort() {
        let svc = makeService {
            $0.spec.ports = [ServicePort(name: "a", port: 80), ServicePort(name: "b", port: 80, targetPort: 8080)]
        }
        #expect(messages(svc.validate()) == [
            #"spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}"#
        ])
    }

    @Test func duplicateUDPPortRendersProtocol() {
        let svc = makeService {
            $0.spec.ports = [
                ServicePort(name: "a", protocol: .udp, port: 53), ServicePort(name: "b", protocol: .udp, port: 53),
            ]
        }
        #expect(messages(svc.validate()) == [
            #"spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"UDP", AppProtocol:(*string)(nil), Port:53, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}"#
        ])
    }

    @Test func samePortWithDifferentProtocolsIsAllowed() {
        let svc = makeService {
            $0.spec.ports = [ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", protocol: .tcp, port: 53)]
        }
        #expect(messages(svc.validate()) == [])
    }

    @Test(arguments: [[ServicePort]?.none, .some([])])
    func portsRequiredForOrdinaryService(_ ports: [ServicePort]?) {
        let svc = makeService { $0.spec.ports = ports }
        #expect(messages(svc.validate()) == ["spec.ports: Required value"])
    }

    @Test func headlessAndExternalNameNeedNoPorts() {
        #expect(messages(makeHeadlessService { $0.spec.ports = [] }.validate()) == [])
        #expect(messages(makeExternalNameService { $0.spec.ports = nil }.validate()) == [])
    }

    @Test func headlessCheckUsesClusterIPsNotClusterIP() {
        let svc = makeHeadlessService { $0.spec.clusterIPs = nil }
        #expect(messages(svc.validate()) == ["spec.ports: Required value", "spec.clusterIPs: Required value"])
    }

    @Test func nodePortForbiddenForClusterIP() {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: 80, nodePort: 30080)] }
        #expect(messages(svc.validate()) == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"])
    }

    @Test func nodePortZeroIsFineForClusterIP() {
        let svc = makeService { $0.spec.ports = [ServicePort(name: "http", port: 80, nodePort: 0)] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func duplicateNodePorts() {
        let svc = makeService {
            $0.spec.type = .nodePort
            $0.spec.ports = [
                ServicePort(name: "a", port: 80, nodePort: 30080), ServicePort(name: "b", port: 81, nodePort: 30080),
                ServicePort(name: "c", protocol: .udp, port: 82, nodePort: 30080),
            ]
        }
        #expect(messages(svc.validate()) == ["spec.ports[1].nodePort: Duplicate value: 30080"])
    }

    @Test func nodePortOnExternalNameIsNotRejected() {
        let svc = makeExternalNameService { $0.spec.ports = [ServicePort(name: "a", port: 80, nodePort: 30080)] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func loadBalancerMayNotExposeKubeletPort() {
        let svc = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.ports = [ServicePort(name: "kubelet", port: 10250)]
        }
        #expect(messages(svc.validate()) == [
            "spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet"
        ])
    }

    @Test func headlessLoadBalancerAndNodePortAreRejected() {
        let lb = makeHeadlessService {
            $0.spec.type = .loadBalancer
            $0.spec.ports = [ServicePort(name: "a", port: 80)]
        }
        #expect(messages(lb.validate()) == [#"spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services"#])
        let np = makeHeadlessService {
            $0.spec.type = .nodePort
            $0.spec.ports = [ServicePort(name: "a", port: 80)]
        }
        #expect(messages(np.validate()) == [#"spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services"#])
    }

    // MARK: ExternalName (§2.2 (4))

    @Test func externalNameForbidsClusterIPsFamiliesAndPolicyInOrder() {
        let svc = makeExternalNameService {
            $0.spec.clusterIP = "10.96.0.10"
            $0.spec.clusterIPs = ["10.96.0.10"]
            $0.spec.ipFamilies = [.ipv4]
            $0.spec.ipFamilyPolicy = .singleStack
        }
        #expect(messages(svc.validate()) == [
            "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
            "spec.ipFamilies: Forbidden: may not be set for ExternalName services",
            "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services",
        ])
    }

    @Test(arguments: [String?.none, "", "."])
    func externalNameRequired(_ name: String?) {
        let svc = makeExternalNameService { $0.spec.externalName = name }
        #expect(messages(svc.validate()) == ["spec.externalName: Required value"])
    }

    @Test(arguments: ["example.com", "example.com.", "a", "db.prod.svc.cluster.local."])
    func validExternalNames(_ name: String) {
        #expect(messages(makeExternalNameService { $0.spec.externalName = name }.validate()) == [])
    }

    @Test(arguments: [
        ("Foo.com", "Foo.com"),
        ("foo.com..", "foo.com."),
        ("-foo.com", "-foo.com"),
        ("foo_bar.com.", "foo_bar.com"),
    ])
    func invalidExternalNameReportsStrippedValue(_ name: String, _ reported: String) {
        let svc = makeExternalNameService { $0.spec.externalName = name }
        #expect(messages(svc.validate()) == ["spec.externalName: Invalid value: \"\(reported)\": \(Msg.dns1123Subdomain)"])
    }

    @Test func tooLongExternalName() {
        let name = Array(repeating: String(repeating: "a", count: 50), count: 5).joined(separator: ".") + ".abc"  // 258
        let svc = makeExternalNameService { $0.spec.externalName = name }
        #expect(messages(svc.validate()) == ["spec.externalName: Invalid value: \"\(name)\": \(Msg.maxLen(253))"])
    }

    @Test func externalNameAllowsExternalIPsAndInternalTrafficPolicy() {
        let svc = makeExternalNameService {
            $0.spec.externalIPs = ["203.0.113.9"]
            $0.spec.internalTrafficPolicy = .local
        }
        #expect(messages(svc.validate()) == [])
    }

    // MARK: Selector (§2.2 (6))

    @Test func selectorErrorsUseThePathWithoutKey() {
        let badValue = makeService { $0.spec.selector = ["app": "-web"] }
        #expect(messages(badValue.validate()) == ["spec.selector: Invalid value: \"-web\": \(Msg.labelValue)"])
        let badKey = makeService { $0.spec.selector = ["-app": "web"] }
        #expect(messages(badKey.validate()) == ["spec.selector: Invalid value: \"-app\": \(Msg.qualifiedNamePart)"])
        let longValue = String(repeating: "v", count: 64)
        let tooLong = makeService { $0.spec.selector = ["app": longValue] }
        #expect(messages(tooLong.validate()) == ["spec.selector: Invalid value: \"\(longValue)\": \(Msg.maxLen(63))"])
    }

    @Test func emptyAndNilSelectorsAreValid() {
        #expect(messages(makeService { $0.spec.selector = [:] }.validate()) == [])
        #expect(messages(makeService { $0.spec.selector = nil }.validate()) == [])
        #expect(messages(makeService { $0.spec.selector = ["example.com/app": "", "app.kubernetes.io/name": "web_1.a"] }.validate()) == [])
    }

    // MARK: Session affinity (§2.2 (7))

    @Test(arguments: [0, -1, 86401, Int32.max] as [Int32])
    func clientIPTimeoutOutOfRange(_ timeout: Int32) {
        let svc = makeService {
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout))
        }
        #expect(messages(svc.validate()) == [
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: \(timeout): must be greater than 0 and less than 86400"
        ])
    }

    @Test(arguments: [1, 10800, 86400] as [Int32])
    func clientIPTimeoutInRange(_ timeout: Int32) {
        let svc = makeService {
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout))
        }
        #expect(messages(svc.validate()) == [])
    }

    @Test func unsupportedSessionAffinity() {
        let svc = makeService { $0.spec.sessionAffinity = "Sticky" }
        #expect(messages(svc.validate()) == [#"spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None""#])
    }

    @Test func sessionAffinityChecksUnreachableThroughDefaulting() {
        let empty = makeDefaultedService { $0.spec.sessionAffinity = ServiceAffinity(rawValue: "") }
        #expect(messages(empty.validate()) == ["spec.sessionAffinity: Required value"])

        let noConfig = makeDefaultedService {
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = nil
        }
        #expect(messages(noConfig.validate()) == ["spec.sessionAffinityConfig: Required value: when session affinity type is ClientIP"])

        let noClientIP = makeDefaultedService {
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: nil)
        }
        #expect(messages(noClientIP.validate()) == [
            "spec.sessionAffinityConfig.clientIP: Required value: when session affinity type is ClientIP"
        ])

        let noTimeout = makeDefaultedService {
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: nil))
        }
        #expect(messages(noTimeout.validate()) == [
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Required value: when session affinity type is ClientIP"
        ])

        let noneWithConfig = makeDefaultedService {
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 10))
        }
        #expect(messages(noneWithConfig.validate()) == [
            "spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"
        ])
    }

    // MARK: Type (§2.2 (10))

    @Test func unsupportedType() {
        let svc = makeService { $0.spec.type = "Foo" }
        #expect(messages(svc.validate()) == [
            #"spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#
        ])
    }

    @Test func emptyTypeAfterDefaultingIsRequired() {
        let svc = makeDefaultedService { $0.spec.type = ServiceType(rawValue: "") }
        #expect(messages(svc.validate()) == ["spec.type: Required value"])
    }

    // MARK: externalIPs (§2.2 (9))

    @Test func validExternalIPs() {
        let svc = makeService { $0.spec.externalIPs = ["203.0.113.7", "2001:db8::7", "203.0.113.7"] }
        #expect(messages(svc.validate()) == [])
    }

    @Test(arguments: ["abc", "", "1.2.3", "1.2.3.4/32", "1.2.3.256"])
    func invalidExternalIP(_ ip: String) {
        let svc = makeService { $0.spec.externalIPs = [ip] }
        #expect(messages(svc.validate()) == ["spec.externalIPs[0]: Invalid value: \"\(ip)\": \(Msg.ip)"])
    }

    /// Deliberate deviation: leading zeros are rejected (like 1.33's strict parsing), so only the field is checked.
    @Test func leadingZeroExternalIPIsRejected() {
        let svc = makeService { $0.spec.externalIPs = ["010.0.0.1"] }
        let errors = svc.validate()
        #expect(errors.map(\.field) == ["spec.externalIPs[0]"])
        #expect(errors.first?.kind == .invalid)
    }

    @Test(arguments: [
        ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
        ("::", "may not be unspecified (::)"),
        ("127.0.0.1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("127.255.0.9", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("::1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        ("fe80::1", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        ("224.0.0.251", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
        ("ff02::1", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    ])
    func specialExternalIPs(_ ip: String, _ detail: String) {
        let svc = makeService { $0.spec.externalIPs = ["203.0.113.1", ip] }
        #expect(messages(svc.validate()) == ["spec.externalIPs[1]: Invalid value: \"\(ip)\": \(detail)"])
    }

    /// Go's `IP.IsLinkLocalMulticast` for IPv6 is `ff?2::/16` (any flags nibble), not only `ff02::`.
    @Test(arguments: ["ff12::1", "ff32::fb"])
    func ipv6LinkLocalMulticastWithFlags(_ ip: String) {
        let svc = makeService { $0.spec.externalIPs = [ip] }
        #expect(messages(svc.validate()) == [
            "spec.externalIPs[0]: Invalid value: \"\(ip)\": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
        ])
    }

    @Test func multicastOutsideLinkLocalIsAllowed() {
        let svc = makeService { $0.spec.externalIPs = ["224.0.1.1"] }
        #expect(messages(svc.validate()) == [])
    }

    // MARK: ClusterIPs, families, policy (§2.3)

    @Test func clusterIPWithoutClusterIPs() {
        let svc = makeService { $0.spec.clusterIPs = nil }
        #expect(messages(svc.validate()) == ["spec.clusterIPs: Required value"])
    }

    @Test func clusterIPsFirstMustMatchClusterIP() {
        let svc = makeService { $0.spec.clusterIPs = ["10.96.0.11"] }
        #expect(messages(svc.validate()) == [#"spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match `clusterIP`"#])
    }

    @Test func clusterIPsWithoutClusterIP() {
        let svc = makeService {
            $0.spec.clusterIP = nil
            $0.spec.clusterIPs = ["10.0.0.1"]
        }
        #expect(messages(svc.validate()) == [#"spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: must be empty when `clusterIP` is not specified"#])
    }

    @Test func noneMustBeFirstAndOnly() {
        let svc = makeService {
            $0.spec.clusterIP = "None"
            $0.spec.clusterIPs = ["None", "10.0.0.1"]
        }
        #expect(messages(svc.validate()) == [#"spec.clusterIPs: Invalid value: []string{"None", "10.0.0.1"}: 'None' must be the first and only value"#])
    }

    @Test func noneInSecondPositionIsAnInvalidIP() {
        let svc = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "None"]
            $0.spec.ipFamilyPolicy = .requireDualStack
        }
        #expect(messages(svc.validate()) == ["spec.clusterIPs[1]: Invalid value: \"None\": \(Msg.ip)"])
    }

    @Test(arguments: ["abc", "10.96.0", "fd00::zz"])
    func invalidClusterIP(_ ip: String) {
        let svc = makeService {
            $0.spec.clusterIP = ip
            $0.spec.clusterIPs = [ip]
        }
        #expect(messages(svc.validate()) == ["spec.clusterIPs[0]: Invalid value: \"\(ip)\": \(Msg.ip)"])
    }

    @Test func invalidIPStopsBeforeFamilyChecks() {
        // Two entries of which one is bad: no "one per family" and no family mismatch messages follow.
        let svc = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "bad"]
            $0.spec.ipFamilies = [.ipv6, .ipv6]
        }
        #expect(messages(svc.validate()) == [
            #"spec.ipFamilies[1]: Duplicate value: "IPv6""#,
            "spec.clusterIPs[1]: Invalid value: \"bad\": \(Msg.ip)",
        ])
    }

    /// Upstream checks "one per family" with `IsDualStackIPStrings`, which is true as soon as both families are
    /// present; with three IPs only "may only hold up to 2 values" is reported.
    @Test func moreThanTwoClusterIPs() {
        let svc = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "fd00::10", "10.96.0.11"]
            $0.spec.ipFamilies = [.ipv4, .ipv6]
            $0.spec.ipFamilyPolicy = .requireDualStack
        }
        #expect(messages(svc.validate()) == [
            #"spec.clusterIPs: Invalid value: []string{"10.96.0.10", "fd00::10", "10.96.0.11"}: may only hold up to 2 values"#
        ])
    }

    @Test func twoClusterIPsOfOneFamily() {
        let svc = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "10.96.0.11"]
            $0.spec.ipFamilyPolicy = .requireDualStack
        }
        #expect(messages(svc.validate()) == [
            #"spec.clusterIPs: Invalid value: []string{"10.96.0.10", "10.96.0.11"}: may specify no more than one IP for each IP family"#
        ])
    }

    @Test func clusterIPFamilyMismatch() {
        let svc = makeService {
            $0.spec.clusterIP = "fd00::10"
            $0.spec.clusterIPs = ["fd00::10"]
        }
        #expect(messages(svc.validate()) == [
            #"spec.clusterIPs[0]: Invalid value: "fd00::10": expected an IPv4 value as indicated by `ipFamilies[0]`"#
        ])
    }

    @Test func dualStackFamilyMismatchOnBothIndexes() {
        let svc = makeService {
            $0.spec.clusterIPs = ["10.96.0.10", "fd00::10"]
            $0.spec.ipFamilies = [.ipv6, .ipv4]
            $0.spec.ipFamilyPolicy = .requireDualStack
        }
        #expect(messages(svc.validate()) == [
            #"spec.clusterIPs[0]: Invalid value: "10.96.0.10": expected an IPv6 value as indicated by `ipFamilies[0]`"#,
            #"spec.clusterIPs[1]: Invalid value: "fd00::10": expected an IPv4 value as indicated by `ipFamilies[1]`"#,
        ])
    }

    @Test func headlessSkipsFamilyMatching() {
        let svc = makeHeadlessService { $0.spec.ipFamilies = [.ipv6] }
        #expect(messages(svc.validate()) == [])
    }

    @Test func unsupportedAndDuplicateIPFamilies() {
        let bad = makeService { $0.spec.ipFamilies = [IPFamily("IPv5")] }
        #expect(messages(bad.validate()) == [#"spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6""#])

        let dup = makeService { $0.spec.ipFamilies = [.ipv4, .ipv4] }
        #expect(messages(dup.validate()) == [#"spec.ipFamilies[1]: Duplicate value: "IPv4""#])

        let both = makeService { $0.spec.ipFamilies = [IPFamily("IPv5"), IPFamily("IPv5")] }
        #expect(messages(both.validate()) == [
            #"spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6""#,
            #"spec.ipFamilies[1]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6""#,
            #"spec.ipFamilies[1]: Duplicate value: "IPv5""#,
        ])
    }

    @Test func unsupportedIPFamilyPolicyListIsSorted() {
        let svc = makeService { $0.spec.ipFamilyPolicy = "DualStack" }
        #expect(messages(svc.validate()) == [
            #"spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: "PreferDualStack", "RequireDualStack", "SingleStack""#
        ])
    }

    @Test func clusterIPsRelatedFieldsSkipExternalName() {
        let svc = makeExternalNameService {
            $0.spec.clusterIPs = ["junk"]
            $0.spec.ipFamilies = [IPFamily("IPv5")]
        }
        #expect(svc.validateClusterIPsRelatedFields().isEmpty)
    }

    // MARK: Traffic policies (§2.2 (17)–(19))

    @Test func externalTrafficPolicyOnlyForExternallyAccessible() {
        let svc = makeService { $0.spec.externalTrafficPolicy = .local }
        #expect(messages(svc.validate()) == [
            #"spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services"#
        ])
        let withExternalIPs = makeService {
            $0.spec.externalIPs = ["203.0.113.7"]
            $0.spec.externalTrafficPolicy = .local
        }
        #expect(messages(withExternalIPs.validate()) == [])
    }

    @Test func unsupportedExternalTrafficPolicy() {
        let svc = makeService {
            $0.spec.type = .nodePort
            $0.spec.externalTrafficPolicy = "Global"
        }
        #expect(messages(svc.validate()) == [
            #"spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local""#
        ])
    }

    @Test func emptyExternalTrafficPolicyAfterDefaultingIsRequired() {
        let svc = makeDefaultedService {
            $0.spec.type = .nodePort
            $0.spec.externalTrafficPolicy = nil
        }
        #expect(messages(svc.validate()) == ["spec.externalTrafficPolicy: Required value"])
    }

    @Test func healthCheckNodePortRules() {
        let notNeeded = makeService {
            $0.spec.type = .nodePort
            $0.spec.healthCheckNodePort = 30000
        }
        #expect(messages(notNeeded.validate()) == [
            "spec.healthCheckNodePort: Invalid value: 30000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        ])

        let missing = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.externalTrafficPolicy = .local
        }
        #expect(messages(missing.validate()) == ["spec.healthCheckNodePort: Required value"])

        let outOfRange = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.externalTrafficPolicy = .local
            $0.spec.healthCheckNodePort = 70000
        }
        #expect(messages(outOfRange.validate()) == ["spec.healthCheckNodePort: Invalid value: 70000: \(Msg.portRange)"])

        let ok = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.externalTrafficPolicy = .local
            $0.spec.healthCheckNodePort = 30000
        }
        #expect(messages(ok.validate()) == [])
    }

    @Test func internalTrafficPolicy() {
        let bad = makeService { $0.spec.internalTrafficPolicy = "Node" }
        #expect(messages(bad.validate()) == [#"spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local""#])
        let local = makeService { $0.spec.internalTrafficPolicy = .local }
        #expect(messages(local.validate()) == [])
        let missing = makeDefaultedService { $0.spec.internalTrafficPolicy = nil }
        #expect(messages(missing.validate()) == ["spec.internalTrafficPolicy: Required value"])
    }

    @Test func trafficDistributionAcceptsOnlyPreferClose() {
        #expect(messages(makeService { $0.spec.trafficDistribution = "PreferClose" }.validate()) == [])
        for value in ["PreferSameZone", "PreferSameNode", "", "preferclose"] {
            let svc = makeService { $0.spec.trafficDistribution = value }
            #expect(messages(svc.validate()) == [
                "spec.trafficDistribution: Unsupported value: \"\(value)\": supported values: \"PreferClose\""
            ])
        }
    }

    // MARK: Load balancer fields (§2.2 (14)–(16))

    @Test func loadBalancerSourceRanges() {
        let forbidden = makeService { $0.spec.loadBalancerSourceRanges = ["10.0.0.0/8"] }
        #expect(messages(forbidden.validate()) == [
            "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"
        ])
        let lb = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.loadBalancerSourceRanges = [" 10.0.0.0/8 ", "2001:db8::/64", "bad"]
        }
        #expect(messages(lb.validate()) == ["spec.LoadBalancerSourceRanges[2]: Invalid value: \"bad\": \(Msg.cidr)"])
    }

    /// The entry is space-trimmed before the check, and the trimmed value is what is reported.
    @Test func loadBalancerSourceRangeReportsTrimmedValue() {
        let lb = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.loadBalancerSourceRanges = [" bad "]
        }
        #expect(messages(lb.validate()) == ["spec.LoadBalancerSourceRanges[0]: Invalid value: \"bad\": \(Msg.cidr)"])
    }

    @Test func loadBalancerSourceRangesAnnotation() {
        let key = "service.beta.kubernetes.io/load-balancer-source-ranges"
        let forbidden = makeService { $0.metadata.annotations = [key: "10.0.0.0/8"] }
        #expect(messages(forbidden.validate()) == [
            "metadata.annotations[\(key)]: Forbidden: may only be used when `type` is 'LoadBalancer'"
        ])
        let lb = makeService {
            $0.spec.type = .loadBalancer
            $0.metadata.annotations = [key: "10.0.0.0/8, bad"]
        }
        #expect(messages(lb.validate()) == ["metadata.annotations[\(key)]: Invalid value: \"bad\": \(Msg.cidr)"])
    }

    @Test func allocateLoadBalancerNodePorts() {
        let forbidden = makeService { $0.spec.allocateLoadBalancerNodePorts = false }
        #expect(messages(forbidden.validate()) == [
            "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"
        ])
        let missing = makeDefaultedService {
            $0.spec.type = .loadBalancer
            $0.spec.externalTrafficPolicy = .cluster
            $0.spec.allocateLoadBalancerNodePorts = nil
        }
        #expect(messages(missing.validate()) == ["allocateLoadBalancerNodePorts: Required value"])
    }

    @Test func loadBalancerClass() {
        let forbidden = makeService { $0.spec.loadBalancerClass = "example.com/lb" }
        #expect(messages(forbidden.validate()) == ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"])
        let bad = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.loadBalancerClass = "example.com/-lb"
        }
        #expect(messages(bad.validate()) == ["spec.loadBalancerClass: Invalid value: \"example.com/-lb\": \(Msg.qualifiedNamePart)"])
        let ok = makeService {
            $0.spec.type = .loadBalancer
            $0.spec.loadBalancerClass = "example.com/lb"
        }
        #expect(messages(ok.validate()) == [])
    }

    @Test func publishNotReadyAddressesIsNotValidated() {
        #expect(messages(makeService { $0.spec.publishNotReadyAddresses = true }.validate()) == [])
        #expect(messages(makeService { $0.spec.publishNotReadyAddresses = false }.validate()) == [])
    }

    @Test func externalNameFieldOnClusterIPServiceIsNotValidated() {
        #expect(messages(makeService { $0.spec.externalName = "Not A Name" }.validate()) == [])
    }

    // MARK: Metadata (§2.2 (1), (2))

    @Test(arguments: ["1abc", "My-Svc", "a.b", "web_1", "-web", "web-"])
    func serviceNamesAreDNS1035Labels(_ name: String) {
        let svc = makeService { $0.metadata.name = name }
        #expect(messages(svc.validate()) == ["metadata.name: Invalid value: \"\(name)\": \(Msg.dns1035)"])
    }

    @Test func tooLongServiceName() {
        let name = String(repeating: "a", count: 64)
        #expect(messages(makeService { $0.metadata.name = name }.validate()) == [
            "metadata.name: Invalid value: \"\(name)\": \(Msg.maxLen(63))"
        ])
        let name63 = String(repeating: "a", count: 63)
        #expect(messages(makeService { $0.metadata.name = name63 }.validate()) == [])
        let bothProblems = "1" + String(repeating: "a", count: 63)
        #expect(messages(makeService { $0.metadata.name = bothProblems }.validate()) == [
            "metadata.name: Invalid value: \"\(bothProblems)\": \(Msg.maxLen(63))",
            "metadata.name: Invalid value: \"\(bothProblems)\": \(Msg.dns1035)",
        ])
    }

    @Test func serviceNeedsNamespace() {
        #expect(messages(makeService { $0.metadata.namespace = nil }.validate()) == ["metadata.namespace: Required value"])
    }

    @Test func topologyAnnotationsMustAgree() {
        let mismatch = makeService {
            $0.metadata.annotations = [
                "service.kubernetes.io/topology-mode": "Auto", "service.kubernetes.io/topology-aware-hints": "Disabled",
            ]
        }
        #expect(messages(mismatch.validate()) == [
            #"metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: "Auto": must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified"#
        ])
        let agree = makeService {
            $0.metadata.annotations = [
                "service.kubernetes.io/topology-mode": "Auto", "service.kubernetes.io/topology-aware-hints": "Auto",
            ]
        }
        #expect(messages(agree.validate()) == [])
    }

    @Test func finalizerNamesMustBeStandardOrQualified() {
        let ok = makeService { $0.metadata.finalizers = ["kubernetes", "orphan", "example.com/cleanup"] }
        #expect(messages(ok.validate()) == [])
        let bad = makeService { $0.metadata.finalizers = ["example.com/cleanup", "cleanup"] }
        #expect(messages(bad.validate()) == [
            #"metadata.finalizers[1]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified"#
        ])
    }

    // MARK: Order (§2.2: errors come in execution order)

    @Test func errorsComeInUpstreamOrder() {
        let svc = makeService {
            $0.metadata.name = "1abc"
            $0.spec.type = .nodePort
            $0.spec.ports = [ServicePort(port: 0, nodePort: 30000), ServicePort(name: "b", protocol: "HTTP", port: 80, nodePort: 30000)]
            $0.spec.selector = ["app": "-x"]
            $0.spec.sessionAffinity = .clientIP
            $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 0))
            $0.spec.clusterIPs = ["10.96.0.11"]
            $0.spec.externalIPs = ["127.0.0.1"]
            $0.spec.internalTrafficPolicy = "X"
            $0.spec.trafficDistribution = "Y"
        }
        #expect(messages(svc.validate()) == [
            "metadata.name: Invalid value: \"1abc\": \(Msg.dns1035)",
            "spec.ports[0].name: Required value",
            "spec.ports[0].port: Invalid value: 0: \(Msg.portRange)",
            "spec.ports[0].targetPort: Invalid value: 0: \(Msg.portRange)",
            #"spec.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#,
            "spec.selector: Invalid value: \"-x\": \(Msg.labelValue)",
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400",
            #"spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match `clusterIP`"#,
            #"spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)"#,
            #"spec.internalTrafficPolicy: Unsupported value: "X": supported values: "Cluster", "Local""#,
            #"spec.trafficDistribution: Unsupported value: "Y": supported values: "PreferClose""#,
        ])
    }
}
