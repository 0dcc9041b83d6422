import IPAM

extension Namespace {
    /// Namespace names are DNS-1123 labels; namespaces are cluster-scoped.
    public func validate() -> [FieldError] {
        metadata.validate(nameRule: .dns1123Label, namespaced: false) + metadata.validateKubernetesFinalizers()
    }
}

extension Node {
    /// Node names are DNS-1123 subdomains; pod CIDRs must parse, one per family.
    public func validate() -> [FieldError] {
        var errs = metadata.validate(nameRule: .dns1123Subdomain, namespaced: false)
        let spec = FieldPath("spec")
        var families = Set<IPFamily>()
        for (i, text) in (self.spec.podCIDRs ?? []).enumerated() {
            guard let cidr = CIDR(text) else {
                errs.append(.invalid(spec.child("podCIDRs").index(i), .string(text), NameValidation.cidrMessage))
                continue
            }
            if !families.insert(cidr.family).inserted {
                errs.append(.invalid(spec.child("podCIDRs"), .strings(self.spec.podCIDRs), "may specify no more than one CIDR for each IP family"))
            }
        }
        if let podCIDR = self.spec.podCIDR, !podCIDR.isEmpty {
            if CIDR(podCIDR) == nil {
                errs.append(.invalid(spec.child("podCIDR"), .string(podCIDR), NameValidation.cidrMessage))
            } else if let first = self.spec.podCIDRs?.first, first != podCIDR {
                errs.append(.invalid(spec.child("podCIDRs"), .strings(self.spec.podCIDRs), "first value must match `podCIDR`"))
            }
        }
        return errs
    }
}

extension Endpoints {
    /// Each address is an IP; each port has a number, a supported protocol and, when several, a unique name.
    public func validate() -> [FieldError] {
        var errs = metadata.validate(nameRule: .dns1123Subdomain, namespaced: true)
        for (i, subset) in (subsets ?? []).enumerated() {
            let path = FieldPath("subsets").index(i)
            if (subset.addresses ?? []).isEmpty && (subset.notReadyAddresses ?? []).isEmpty {
                errs.append(.required(path, "must specify `addresses` or `notReadyAddresses`"))
            }
            for (field, list) in [("addresses", subset.addresses ?? []), ("notReadyAddresses", subset.notReadyAddresses ?? [])] {
                for (j, address) in list.enumerated() where IPAddress(address.ip) == nil {
                    errs.append(.invalid(path.child(field).index(j).child("ip"), .string(address.ip), NameValidation.ipMessage))
                }
            }
            errs += EndpointPort.validate(subset.ports ?? [], at: path.child("ports"), requireName: (subset.ports ?? []).count > 1)
        }
        return errs
    }
}

extension EndpointSlice {
    /// Upstream's caps: 1000 endpoints per slice, 1 to 100 addresses per endpoint, 20000 ports per slice.
    public static let maxEndpoints = 1000
    public static let maxAddressesPerEndpoint = 100
    public static let maxPorts = 20000

    /// `ValidateEndpointSlice`: address type, endpoints and their addresses in that type, ports.
    public func validate() -> [FieldError] {
        var errs = metadata.validate(nameRule: .dns1123Subdomain, namespaced: true)
        if addressType.rawValue.isEmpty {
            errs.append(.required(FieldPath("addressType")))
        } else if !AddressType.supported.contains(addressType) {
            errs.append(.notSupported(FieldPath("addressType"), .string(addressType.rawValue), supported: AddressType.supported.map(\.rawValue)))
        }
        if endpoints.count > Self.maxEndpoints {
            errs.append(FieldError(.tooMany, FieldPath("endpoints"), value: .int(Int64(endpoints.count)), detail: "must have at most \(Self.maxEndpoints) items"))
        }
        for (i, endpoint) in endpoints.enumerated() {
            let path = FieldPath("endpoints").index(i)
            if endpoint.addresses.isEmpty {
                errs.append(.required(path.child("addresses"), "must contain at least 1 address"))
            } else if endpoint.addresses.count > Self.maxAddressesPerEndpoint {
                errs.append(FieldError(.tooMany, path.child("addresses"), value: .int(Int64(endpoint.addresses.count)), detail: "must have at most \(Self.maxAddressesPerEndpoint) items"))
            }
            for (j, address) in endpoint.addresses.enumerated() {
                let apath = path.child("addresses").index(j)
                switch addressType {
                case .ipv4 where IPAddress(address)?.family != .ipv4:
                    errs.append(.invalid(apath, .string(address), "must be a valid IPv4 address"))
                case .ipv6 where IPAddress(address)?.family != .ipv6:
                    errs.append(.invalid(apath, .string(address), "must be a valid IPv6 address"))
                case .fqdn:
                    for msg in NameValidation.dns1123Subdomain(address) { errs.append(.invalid(apath, .string(address), msg)) }
                default:
                    break
                }
            }
            if let node = endpoint.nodeName, !node.isEmpty {
                for msg in NameValidation.dns1123Subdomain(node) { errs.append(.invalid(path.child("nodeName"), .string(node), msg)) }
            }
            if let hostname = endpoint.hostname, !hostname.isEmpty {
                for msg in NameValidation.dns1123Label(hostname) { errs.append(.invalid(path.child("hostname"), .string(hostname), msg)) }
            }
        }
        let ports = self.ports ?? []
        if ports.count > Self.maxPorts {
            errs.append(FieldError(.tooMany, FieldPath("ports"), value: .int(Int64(ports.count)), detail: "must have at most \(Self.maxPorts) items"))
        }
        errs += EndpointPort.validate(ports, at: FieldPath("ports"), requireName: false)
        return errs
    }

    /// `addressType` cannot change.
    public func validateUpdate(from old: EndpointSlice) -> [FieldError] {
        var errs = metadata.validateUpdate(from: old.metadata)
        if addressType != old.addressType {
            errs.append(.invalid(FieldPath("addressType"), .string(addressType.rawValue), "field is immutable"))
        }
        return errs + validate()
    }
}

extension EndpointPort {
    /// Names are DNS-1123 labels and unique; numbers 1 to 65535; protocols TCP, UDP or SCTP.
    static func validate(_ ports: [EndpointPort], at path: FieldPath, requireName: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        var names = Set<String>()
        for (i, port) in ports.enumerated() {
            let ppath = path.index(i)
            let name = port.name ?? ""
            if name.isEmpty {
                if requireName { errs.append(.required(ppath.child("name"))) }
            } else {
                for msg in NameValidation.dns1123Label(name) { errs.append(.invalid(ppath.child("name"), .string(name), msg)) }
            }
            if !names.insert(name).inserted { errs.append(.duplicate(ppath.child("name"), .string(name))) }
            if let number = port.port {
                for msg in NameValidation.portNumber(Int64(number)) { errs.append(.invalid(ppath.child("port"), .int(Int64(number)), msg)) }
            }
            let proto = port.protocol?.rawValue ?? ""
            if proto.isEmpty {
                errs.append(.required(ppath.child("protocol")))
            } else if !TransportProtocol.supported.map(\.rawValue).contains(proto) {
                errs.append(.notSupported(ppath.child("protocol"), .string(proto), supported: TransportProtocol.supported.map(\.rawValue)))
            }
            if let app = port.appProtocol {
                for msg in NameValidation.qualifiedName(app) { errs.append(.invalid(ppath.child("appProtocol"), .string(app), msg)) }
            }
        }
        return errs
    }
}
