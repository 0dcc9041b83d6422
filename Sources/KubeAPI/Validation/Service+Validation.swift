import IPAM

extension Service {
    /// `metadata.annotations` keys that steer topology-aware routing.
    public static let topologyModeAnnotation = "service.kubernetes.io/topology-mode"
    public static let deprecatedTopologyHintsAnnotation = "service.kubernetes.io/topology-aware-hints"
    /// The pre-field way of restricting LoadBalancer sources.
    public static let loadBalancerSourceRangesAnnotation = "service.beta.kubernetes.io/load-balancer-source-ranges"

    /// True when `clusterIPs` is exactly `["None"]` (what validation calls headless).
    var hasHeadlessClusterIPs: Bool { spec.clusterIPs == ["None"] }

    /// `ValidateService`, in upstream's order, with upstream's field paths and messages.
    /// Expects a defaulted Service (`applyDefaults()`) whose `clusterIPs` has been synced with `clusterIP`.
    public func validate() -> [FieldError] {
        var errs = metadata.validate(nameRule: .dns1035Label, namespaced: true)
        errs += metadata.validateKubernetesFinalizers()
        let spec = FieldPath("spec")
        let ports = self.ports

        let annotations = metadata.annotations ?? [:]
        if let mode = annotations[Self.topologyModeAnnotation], let hints = annotations[Self.deprecatedTopologyHintsAnnotation],
            mode != hints
        {
            errs.append(.invalid(
                FieldPath("metadata").child("annotations").key(Self.topologyModeAnnotation), .string(mode),
                "must match annotations[\(Self.deprecatedTopologyHintsAnnotation)] when both are specified"))
        }

        if ports.isEmpty && !hasHeadlessClusterIPs && type != .externalName {
            errs.append(.required(spec.child("ports")))
        }

        switch type {
        case .loadBalancer:
            for (i, port) in ports.enumerated() where port.port == 10250 {
                errs.append(.invalid(
                    spec.child("ports").index(i), .int(10250),
                    "may not expose port 10250 externally since it is used by kubelet"))
            }
            if hasHeadlessClusterIPs {
                errs.append(.invalid(spec.child("clusterIPs").index(0), .string("None"), "may not be set to 'None' for LoadBalancer services"))
            }
        case .nodePort:
            if hasHeadlessClusterIPs {
                errs.append(.invalid(spec.child("clusterIPs").index(0), .string("None"), "may not be set to 'None' for NodePort services"))
            }
        case .externalName:
            if !(self.spec.clusterIPs ?? []).isEmpty {
                errs.append(.forbidden(spec.child("clusterIPs"), "may not be set for ExternalName services"))
            }
            if !(self.spec.ipFamilies ?? []).isEmpty {
                errs.append(.forbidden(spec.child("ipFamilies"), "may not be set for ExternalName services"))
            }
            if self.spec.ipFamilyPolicy != nil {
                errs.append(.forbidden(spec.child("ipFamilyPolicy"), "may not be set for ExternalName services"))
            }
            var name = self.spec.externalName ?? ""
            if name.hasSuffix(".") { name.removeLast() }
            if name.isEmpty {
                errs.append(.required(spec.child("externalName")))
            } else {
                for msg in NameValidation.dns1123Subdomain(name) {
                    errs.append(.invalid(spec.child("externalName"), .string(name), msg))
                }
            }
        default:
            break
        }

        var portNames = Set<String>()
        for (i, port) in ports.enumerated() {
            errs += port.validate(at: spec.child("ports").index(i), requireName: ports.count > 1, seenNames: &portNames)
        }

        if let selector = self.spec.selector {
            errs += NameValidation.labels(selector, at: spec.child("selector"))
        }

        errs += validateSessionAffinity(spec)
        errs += validateClusterIPsRelatedFields()

        for (i, ip) in (self.spec.externalIPs ?? []).enumerated() {
            let path = spec.child("externalIPs").index(i)
            guard let address = IPAddress(ip) else {
                errs.append(.invalid(path, .string(ip), NameValidation.ipMessage))
                continue
            }
            for msg in Self.specialIPProblems(address) { errs.append(.invalid(path, .string(ip), msg)) }
        }

        if (self.spec.type?.rawValue ?? "").isEmpty {
            errs.append(.required(spec.child("type")))
        } else if !ServiceType.supported.contains(type) {
            errs.append(.notSupported(spec.child("type"), .string(type.rawValue), supported: ServiceType.supported.map(\.rawValue)))
        }

        if type == .clusterIP {
            for (i, port) in ports.enumerated() where (port.nodePort ?? 0) != 0 {
                errs.append(.forbidden(spec.child("ports").index(i).child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
            }
        }

        var nodePorts = Set<String>()
        for (i, port) in ports.enumerated() {
            guard let np = port.nodePort, np != 0 else { continue }
            if !nodePorts.insert("\(port.protocol?.rawValue ?? "")/\(np)").inserted {
                errs.append(.duplicate(spec.child("ports").index(i).child("nodePort"), .int(Int64(np))))
            }
        }

        var portKeys = Set<String>()
        for (i, port) in ports.enumerated() {
            let proto = port.protocol?.rawValue ?? ""
            if !portKeys.insert("\(proto)/\(port.port)").inserted {
                errs.append(.duplicate(
                    spec.child("ports").index(i),
                    .raw("core.ServicePort{Name:\"\", Protocol:\(BadValue.goQuote(proto)), AppProtocol:(*string)(nil), Port:\(port.port), TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")))
            }
        }

        if let ranges = self.spec.loadBalancerSourceRanges, !ranges.isEmpty {
            let path = spec.child("LoadBalancerSourceRanges")
            if type != .loadBalancer {
                errs.append(.forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            }
            for (i, range) in ranges.enumerated() {
                let trimmed = String(Substring(range).trimmingWhitespace())
                if CIDR(trimmed) == nil { errs.append(.invalid(path.index(i), .string(trimmed), NameValidation.cidrMessage)) }
            }
        } else if let value = annotations[Self.loadBalancerSourceRangesAnnotation] {
            let path = FieldPath("metadata").child("annotations").key(Self.loadBalancerSourceRangesAnnotation)
            if type != .loadBalancer {
                errs.append(.forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            }
            for range in value.split(separator: ",").map({ String($0.trimmingWhitespace()) }) where !range.isEmpty && CIDR(range) == nil {
                errs.append(.invalid(path, .string(range), NameValidation.cidrMessage))
            }
        }

        if self.spec.allocateLoadBalancerNodePorts != nil && type != .loadBalancer {
            errs.append(.forbidden(spec.child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
        }
        if type == .loadBalancer && self.spec.allocateLoadBalancerNodePorts == nil {
            errs.append(.required(FieldPath("allocateLoadBalancerNodePorts")))
        }
        if let cls = self.spec.loadBalancerClass {
            if type == .loadBalancer {
                for msg in NameValidation.qualifiedName(cls) { errs.append(.invalid(spec.child("loadBalancerClass"), .string(cls), msg)) }
            } else {
                errs.append(.forbidden(spec.child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
            }
        }

        errs += validateExternalTrafficPolicy(spec)

        if let itp = self.spec.internalTrafficPolicy {
            if !TrafficPolicy.supported.contains(itp) {
                errs.append(.notSupported(spec.child("internalTrafficPolicy"), .string(itp.rawValue), supported: TrafficPolicy.supported.map(\.rawValue)))
            }
        } else if [.nodePort, .loadBalancer, .clusterIP].contains(type) {
            errs.append(.required(spec.child("internalTrafficPolicy")))
        }

        if let td = self.spec.trafficDistribution, td != "PreferClose" {
            errs.append(.notSupported(spec.child("trafficDistribution"), .string(td), supported: ["PreferClose"]))
        }
        return errs
    }

    private func validateSessionAffinity(_ spec: FieldPath) -> [FieldError] {
        let affinity = self.spec.sessionAffinity?.rawValue ?? ""
        let configPath = spec.child("sessionAffinityConfig")
        if affinity.isEmpty { return [.required(spec.child("sessionAffinity"))] }
        guard ServiceAffinity.supported.map(\.rawValue).contains(affinity) else {
            return [.notSupported(spec.child("sessionAffinity"), .string(affinity), supported: ServiceAffinity.supported.map(\.rawValue))]
        }
        let when = "when session affinity type is ClientIP"
        if affinity == ServiceAffinity.clientIP.rawValue {
            guard let config = self.spec.sessionAffinityConfig else { return [.required(configPath, when)] }
            guard let clientIP = config.clientIP else { return [.required(configPath.child("clientIP"), when)] }
            let timeoutPath = configPath.child("clientIP").child("timeoutSeconds")
            guard let timeout = clientIP.timeoutSeconds else { return [.required(timeoutPath, when)] }
            if timeout <= 0 || timeout > Self.maxClientIPAffinitySeconds {
                return [.invalid(timeoutPath, .int(Int64(timeout)), "must be greater than 0 and less than \(Self.maxClientIPAffinitySeconds)")]
            }
        } else if self.spec.sessionAffinityConfig != nil {
            return [.forbidden(configPath, "must not be set when session affinity is \(ServiceAffinity.none.rawValue)")]
        }
        return []
    }

    private func validateExternalTrafficPolicy(_ spec: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        let etp = self.spec.externalTrafficPolicy?.rawValue ?? ""
        if !isExternallyAccessible {
            if !etp.isEmpty {
                errs.append(.invalid(spec.child("externalTrafficPolicy"), .string(etp), "may only be set for externally-accessible services"))
            }
        } else if etp.isEmpty {
            errs.append(.required(spec.child("externalTrafficPolicy")))
        } else if !TrafficPolicy.supported.map(\.rawValue).contains(etp) {
            errs.append(.notSupported(spec.child("externalTrafficPolicy"), .string(etp), supported: TrafficPolicy.supported.map(\.rawValue)))
        }
        let needsHealthCheck = type == .loadBalancer && etp == TrafficPolicy.local.rawValue
        let hc = self.spec.healthCheckNodePort ?? 0
        if !needsHealthCheck && hc != 0 {
            errs.append(.invalid(
                spec.child("healthCheckNodePort"), .int(Int64(hc)),
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
        } else if needsHealthCheck {
            if hc == 0 {
                errs.append(.required(spec.child("healthCheckNodePort")))
            } else if !(1...65535).contains(hc) {
                errs.append(.invalid(spec.child("healthCheckNodePort"), .int(Int64(hc)), NameValidation.inclusiveRange(1, 65535)))
            }
        }
        return errs
    }

    /// `ValidateServiceClusterIPsRelatedFields`: clusterIP/clusterIPs agree, families and policy are known values,
    /// the IPs parse, at most one per family, and each matches its `ipFamilies` entry.
    public func validateClusterIPsRelatedFields() -> [FieldError] {
        guard type != .externalName else { return [] }
        var errs: [FieldError] = []
        let spec = FieldPath("spec")
        let clusterIP = self.spec.clusterIP ?? ""
        let clusterIPs = self.spec.clusterIPs ?? []
        let ipsValue = BadValue.strings(self.spec.clusterIPs)

        if !clusterIP.isEmpty {
            if clusterIPs.isEmpty {
                errs.append(.required(spec.child("clusterIPs")))
            } else if clusterIPs[0] != clusterIP {
                errs.append(.invalid(spec.child("clusterIPs"), ipsValue, "first value must match `clusterIP`"))
            }
        } else if !clusterIPs.isEmpty {
            errs.append(.invalid(spec.child("clusterIPs"), ipsValue, "must be empty when `clusterIP` is not specified"))
        }

        var seenFamilies = Set<IPFamily>()
        for (i, family) in (self.spec.ipFamilies ?? []).enumerated() {
            if !family.isSupported {
                errs.append(.notSupported(spec.child("ipFamilies").index(i), .string(family.rawValue), supported: ["IPv4", "IPv6"]))
            }
            if !seenFamilies.insert(family).inserted {
                errs.append(.duplicate(spec.child("ipFamilies").index(i), .string(family.rawValue)))
            }
        }

        if let policy = self.spec.ipFamilyPolicy, !IPFamilyPolicy.supported.contains(policy) {
            errs.append(.notSupported(spec.child("ipFamilyPolicy"), .string(policy.rawValue), supported: IPFamilyPolicy.supported.map(\.rawValue)))
        }

        var hasInvalidIPs = false
        for (i, ip) in clusterIPs.enumerated() {
            if i == 0 && ip == "None" {
                if clusterIPs.count > 1 {
                    errs.append(.invalid(spec.child("clusterIPs"), ipsValue, "'None' must be the first and only value"))
                    hasInvalidIPs = true
                }
                continue
            }
            if IPAddress(ip) == nil {
                errs.append(.invalid(spec.child("clusterIPs").index(i), .string(ip), NameValidation.ipMessage))
                hasInvalidIPs = true
            }
        }
        if clusterIPs.count > 2 {
            errs.append(.invalid(spec.child("clusterIPs"), ipsValue, "may only hold up to 2 values"))
        }
        if hasInvalidIPs { return errs }

        if clusterIPs.count > 1 {
            // Upstream asks only whether both families are present, so three IPs pass this check.
            let families = Set(clusterIPs.compactMap { IPAddress($0)?.family })
            if families.count != 2 {
                errs.append(.invalid(spec.child("clusterIPs"), ipsValue, "may specify no more than one IP for each IP family"))
            }
        }

        let families = self.spec.ipFamilies ?? []
        if !hasHeadlessClusterIPs && !clusterIPs.isEmpty && !families.isEmpty {
            for (i, ip) in clusterIPs.enumerated() where i < families.count {
                guard let address = IPAddress(ip) else { continue }
                if families[i] == .ipv4 && address.family != .ipv4 {
                    errs.append(.invalid(spec.child("clusterIPs").index(i), .string(ip), "expected an IPv4 value as indicated by `ipFamilies[\(i)]`"))
                }
                if families[i] == .ipv6 && address.family != .ipv6 {
                    errs.append(.invalid(spec.child("clusterIPs").index(i), .string(ip), "expected an IPv6 value as indicated by `ipFamilies[\(i)]`"))
                }
            }
        }
        return errs
    }

    /// `ValidateServiceUpdate`: metadata immutability, ClusterIPs and IP families that may not change once set,
    /// then everything `validate()` checks.
    public func validateUpdate(from old: Service) -> [FieldError] {
        var errs = metadata.validateUpdate(from: old.metadata)
        errs += validateClusterIPsUpdate(from: old)
        errs += validateIPFamiliesUpdate(from: old)
        if type == .loadBalancer && old.type == .loadBalancer && spec.loadBalancerClass != old.spec.loadBalancerClass {
            errs.append(.invalid(
                FieldPath("spec").child("loadBalancerClass"), spec.loadBalancerClass.map { .string($0) } ?? .null,
                "may not change once set"))
        }
        let needsHC = type == .loadBalancer && spec.externalTrafficPolicy == .local
        let oldNeedsHC = old.type == .loadBalancer && old.spec.externalTrafficPolicy == .local
        if needsHC && oldNeedsHC && spec.healthCheckNodePort != old.spec.healthCheckNodePort {
            errs.append(.forbidden(FieldPath("spec").child("healthCheckNodePort"), "field is immutable"))
        }
        return errs + validate()
    }

    private func validateClusterIPsUpdate(from old: Service) -> [FieldError] {
        if type == .externalName || old.type == .externalName { return [] }
        if hasHeadlessClusterIPs && old.hasHeadlessClusterIPs { return [] }
        let newIPs = spec.clusterIPs ?? []
        let oldIPs = old.spec.clusterIPs ?? []
        let path = FieldPath("spec").child("clusterIPs")
        let value = BadValue.strings(spec.clusterIPs)
        var errs: [FieldError] = []
        if newIPs.count == oldIPs.count {
            for i in newIPs.indices where newIPs[i] != oldIPs[i] {
                errs.append(.invalid(path.index(i), value, "may not change once set"))
            }
        } else if oldIPs.count > newIPs.count {
            if newIPs.isEmpty {
                errs.append(.invalid(path.index(0), value, "primary clusterIP can not be unset"))
            } else if newIPs[0] != oldIPs[0] {
                errs.append(.invalid(path.index(0), value, "may not change once set"))
            }
            if newIPs.count == 1 && spec.ipFamilyPolicy != .singleStack {
                errs.append(.invalid(
                    FieldPath("spec").child("ipFamilyPolicy"), spec.ipFamilyPolicy.map { .string($0.rawValue) } ?? .null,
                    "must be set to 'SingleStack' when releasing the secondary clusterIP"))
            }
        } else if !oldIPs.isEmpty && newIPs[0] != oldIPs[0] {
            errs.append(.invalid(path.index(0), value, "may not change once set"))
        }
        return errs
    }

    private func validateIPFamiliesUpdate(from old: Service) -> [FieldError] {
        if type == .externalName || old.type == .externalName { return [] }
        if hasHeadlessClusterIPs != old.hasHeadlessClusterIPs || hasHeadlessClusterIPs { return [] }
        let newFamilies = spec.ipFamilies ?? []
        let oldFamilies = old.spec.ipFamilies ?? []
        let path = FieldPath("spec").child("ipFamilies").index(0)
        let familiesValue = BadValue.stringSlice(spec.ipFamilies?.map(\.rawValue), goType: "core.IPFamily")
        let ipsValue = BadValue.strings(spec.clusterIPs)
        var errs: [FieldError] = []
        if newFamilies.count == oldFamilies.count {
            for i in newFamilies.indices where newFamilies[i] != oldFamilies[i] {
                errs.append(.invalid(path, familiesValue, "may not change once set"))
            }
        } else if oldFamilies.count > newFamilies.count {
            if (spec.clusterIPs ?? []).isEmpty {
                errs.append(.invalid(path, familiesValue, "primary ipFamily can not be unset"))
            } else if !newFamilies.isEmpty && newFamilies[0] != oldFamilies[0] {
                errs.append(.invalid(path, ipsValue, "may not change once set"))
            }
            if newFamilies.count == 1 && spec.ipFamilyPolicy != .singleStack {
                errs.append(.invalid(
                    FieldPath("spec").child("ipFamilyPolicy"), spec.ipFamilyPolicy.map { .string($0.rawValue) } ?? .null,
                    "must be set to 'SingleStack' when releasing the secondary ipFamily"))
            }
        } else if !oldFamilies.isEmpty && newFamilies[0] != oldFamilies[0] {
            errs.append(.invalid(path, ipsValue, "may not change once set"))
        }
        return errs
    }

    /// Addresses that may not be external IPs: unspecified, loopback, link-local, link-local multicast.
    static func specialIPProblems(_ ip: IPAddress) -> [String] {
        var out: [String] = []
        let v = ip.integerValue
        switch ip {
        case .v4:
            if v == 0 { out.append("may not be unspecified (\(ip))") }
            if v >> 24 == 127 { out.append("may not be in the loopback range (127.0.0.0/8, ::1/128)") }
            if v >> 16 == 0xA9FE { out.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)") }
            if v >> 8 == 0xE00000 { out.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)") }
        case .v6:
            if v == 0 { out.append("may not be unspecified (\(ip))") }
            if v == 1 { out.append("may not be in the loopback range (127.0.0.0/8, ::1/128)") }
            if v >> 118 == 0x3FA { out.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)") }
            if v >> 120 == 0xFF && (v >> 112) & 0x0F == 0x02 { out.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)") }
        }
        return out
    }
}

extension ServicePort {
    /// `validateServicePort`: name (required with several ports, DNS-1123 label, unique), port, protocol,
    /// targetPort and appProtocol.
    func validate(at path: FieldPath, requireName: Bool, seenNames: inout Set<String>) -> [FieldError] {
        var errs: [FieldError] = []
        let name = self.name ?? ""
        if requireName && name.isEmpty {
            errs.append(.required(path.child("name")))
        } else if !name.isEmpty {
            for msg in NameValidation.dns1123Label(name) { errs.append(.invalid(path.child("name"), .string(name), msg)) }
            if !seenNames.insert(name).inserted { errs.append(.duplicate(path.child("name"), .string(name))) }
        }
        for msg in NameValidation.portNumber(Int64(port)) { errs.append(.invalid(path.child("port"), .int(Int64(port)), msg)) }
        let proto = self.protocol?.rawValue ?? ""
        if proto.isEmpty {
            errs.append(.required(path.child("protocol")))
        } else if !TransportProtocol.supported.map(\.rawValue).contains(proto) {
            errs.append(.notSupported(path.child("protocol"), .string(proto), supported: TransportProtocol.supported.map(\.rawValue)))
        }
        if let targetPort { errs += NameValidation.portNumOrName(targetPort, at: path.child("targetPort")) }
        if let appProtocol {
            for msg in NameValidation.qualifiedName(appProtocol) {
                errs.append(.invalid(path.child("appProtocol"), .string(appProtocol), msg))
            }
        }
        return errs
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return s
    }
}
