/// ClusterIP allocation for a cluster: one `ClusterIPRange` per configured family, the primary family first.
///
/// A value type: the API server owns one and mutates it under its own serialisation, so allocation is a plain,
/// synchronous function call with no locking of its own.
public struct ClusterIPAllocator: Sendable {
    /// The ranges, primary first. At most one per family.
    public private(set) var ranges: [ClusterIPRange]

    /// Service CIDRs may have at most this many host bits (kube-apiserver refuses larger ranges: a bitmap of
    /// more than a million addresses is not worth keeping).
    public static let maxHostBits = 20

    /// Builds the allocator for the cluster's service CIDRs (`--service-cidr`), primary first.
    public init(serviceCIDRs: [CIDR], seed: UInt64? = nil) throws(ServiceCIDRError) {
        try Self.validate(serviceCIDRs)
        ranges = serviceCIDRs.enumerated().map { i, cidr in
            ClusterIPRange(cidr: cidr, seed: seed.map { $0 &+ UInt64(i) })
        }
    }

    /// Checks a list of service CIDRs as kube-apiserver checks `--service-cluster-ip-range`.
    public static func validate(_ cidrs: [CIDR]) throws(ServiceCIDRError) {
        guard !cidrs.isEmpty else { throw .none }
        guard cidrs.count <= 2 else { throw .tooMany(cidrs.count) }
        if cidrs.count == 2 && cidrs[0].family == cidrs[1].family { throw .sameFamily(cidrs[0], cidrs[1]) }
        for cidr in cidrs where cidr.hostBits > maxHostBits {
            throw .tooLarge(cidr, minimumPrefix: cidr.family.bitWidth - maxHostBits)
        }
        for cidr in cidrs where ClusterIPRange.usableSize(cidr) < 1 {
            throw .tooSmall(cidr)
        }
    }

    /// Parses a comma-separated `--service-cidr` value.
    public static func parseServiceCIDRs(_ text: String) throws(ServiceCIDRError) -> [CIDR] {
        var out: [CIDR] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingWhitespace()
            do {
                out.append(try CIDR(parsing: trimmed))
            } catch {
                throw .unparseable(error)
            }
        }
        try validate(out)
        return out
    }

    public var primaryFamily: IPFamily { ranges[0].family }
    public var families: [IPFamily] { ranges.map(\.family) }
    public var isDualStack: Bool { ranges.count == 2 }
    public var serviceCIDRs: [CIDR] { ranges.map(\.cidr) }

    public func range(for family: IPFamily) -> ClusterIPRange? { ranges.first { $0.family == family } }

    /// The first address of the primary range: the `default/kubernetes` Service's ClusterIP.
    public var kubernetesServiceIP: IPAddress { ranges[0].firstAddress! }

    public func isAllocated(_ ip: IPAddress) -> Bool { range(for: ip.family)?.isAllocated(ip) ?? false }

    /// Allocates a specific address in the range of its family.
    public mutating func allocate(_ ip: IPAddress) throws(ClusterIPAllocationError) {
        guard let i = index(of: ip.family) else { throw .familyNotConfigured(ip.family) }
        try ranges[i].allocate(ip)
    }

    /// Allocates a free address of `family`.
    public mutating func allocateNext(family: IPFamily) throws(ClusterIPAllocationError) -> IPAddress {
        guard let i = index(of: family) else { throw .familyNotConfigured(family) }
        return try ranges[i].allocateNext()
    }

    /// Frees `ip`; a free or foreign address is ignored.
    public mutating func release(_ ip: IPAddress) {
        guard let i = index(of: ip.family) else { return }
        ranges[i].release(ip)
    }

    /// The repair pass: forgets every allocation and rebuilds the set from the ClusterIPs that Services hold.
    ///
    /// As upstream, problems are reported and nothing is taken away from a Service: an address held twice stays
    /// allocated (to the first holder in `claims` order), and addresses outside every range are only reported.
    /// Afterwards no address that any Service holds can be handed out.
    @discardableResult
    public mutating func repair(from claims: [ClusterIPClaim]) -> ClusterIPRepairReport {
        for i in ranges.indices { ranges[i] = ClusterIPRange(cidr: ranges[i].cidr) }
        var report = ClusterIPRepairReport()
        var holders: [IPAddress: String] = [:]
        for claim in claims {
            for text in claim.clusterIPs where !text.isEmpty && text != "None" {
                guard let ip = IPAddress(text) else {
                    report.problems.append(.invalid(ip: text, owner: claim.owner))
                    continue
                }
                guard let i = index(of: ip.family), ranges[i].isAllocatable(ip) else {
                    report.problems.append(.notInRange(ip: ip, owner: claim.owner, serviceCIDRs: serviceCIDRs))
                    continue
                }
                if let first = holders[ip] {
                    report.problems.append(.duplicate(ip: ip, owner: claim.owner, heldBy: first))
                    continue
                }
                holders[ip] = claim.owner
                try? ranges[i].allocate(ip)
                report.restored += 1
            }
        }
        return report
    }

    private func index(of family: IPFamily) -> Int? { ranges.firstIndex { $0.family == family } }
}

/// The ClusterIPs one Service holds, for the repair pass.
public struct ClusterIPClaim: Sendable, Hashable {
    /// `namespace/name` of the Service, for reports.
    public var owner: String
    /// `spec.clusterIPs` as stored (strings: a stored value may not even parse).
    public var clusterIPs: [String]

    public init(owner: String, clusterIPs: [String]) {
        self.owner = owner
        self.clusterIPs = clusterIPs
    }
}

/// What the repair pass found.
public struct ClusterIPRepairReport: Sendable, Hashable {
    /// Addresses marked allocated.
    public var restored = 0
    public var problems: [ClusterIPRepairProblem] = []
    public init() {}
}

/// One inconsistency between stored Services and the service CIDRs. Descriptions follow kube-apiserver's repair
/// controller, which asks the user to recreate the Service.
public enum ClusterIPRepairProblem: Sendable, Hashable, CustomStringConvertible {
    case invalid(ip: String, owner: String)
    case notInRange(ip: IPAddress, owner: String, serviceCIDRs: [CIDR])
    case duplicate(ip: IPAddress, owner: String, heldBy: String)

    public var description: String {
        switch self {
        case .invalid(let ip, let owner):
            "Service \(owner): Cluster IP \(ip) is not a valid IP; please recreate service"
        case .notInRange(let ip, let owner, let cidrs):
            "Service \(owner): Cluster IP \(ip) is not within the configured Service CIDR "
                + "\(cidrs.map(\.description).joined(separator: ",")); please recreate service"
        case .duplicate(let ip, let owner, let heldBy):
            "Service \(owner): Cluster IP \(ip) was assigned to multiple services (also \(heldBy)); please recreate service"
        }
    }
}

/// Why a list of service CIDRs is not acceptable.
public enum ServiceCIDRError: Error, Hashable, Sendable, CustomStringConvertible {
    case none
    case tooMany(Int)
    case sameFamily(CIDR, CIDR)
    case tooLarge(CIDR, minimumPrefix: Int)
    case tooSmall(CIDR)
    case unparseable(AddressParseError)

    public var description: String {
        switch self {
        case .none: "no service CIDR given"
        case .tooMany(let n): "at most two service CIDRs (one per IP family) may be given, found \(n)"
        case .sameFamily(let a, let b): "service CIDRs \(a) and \(b) are of the same family; a dual-stack pair needs one IPv4 and one IPv6"
        case .tooLarge(let c, let p): "service CIDR \(c) is too large; for \(c.family) the prefix length must be at least /\(p)"
        case .tooSmall(let c): "service CIDR \(c) has no usable address"
        case .unparseable(let e): e.description
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
