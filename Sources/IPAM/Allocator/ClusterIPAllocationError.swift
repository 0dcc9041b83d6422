/// Why a ClusterIP could not be allocated. Descriptions are kube-apiserver's texts, which users and tools match on.
public enum ClusterIPAllocationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No free address is left in the range.
    case rangeFull
    /// The requested address is held by another Service.
    case alreadyAllocated(IPAddress)
    /// The requested address is outside the usable part of the range (`validRange` is the range's CIDR).
    case notInRange(IPAddress, validRange: CIDR)
    /// The cluster has no service range for this family.
    case familyNotConfigured(IPFamily)

    public var description: String {
        switch self {
        case .rangeFull:
            "range is full"
        case .alreadyAllocated:
            "provided IP is already allocated"
        case .notInRange(let ip, let range):
            "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(range)"
        case .familyNotConfigured(let family):
            "this cluster is not configured for \(family)"
        }
    }
}
