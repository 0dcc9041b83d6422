/// The names a pod's sandbox has on the node, derived from its UID so that they can be found again after a
/// crash (by `lab down`, or by the next agent) without any record.
public struct PodSandboxNames: Sendable, Hashable {
    /// The pod's network namespace: `<prefix>p-<12 hex digits of the UID>`.
    public let namespace: String
    /// The node end of the pod's veth pair: `sbv` + 12 hex digits (15 characters, the kernel's limit).
    public let hostLink: String
    /// The pod end, as Kubernetes pods see it.
    public static let podLink = "eth0"

    public init(prefix: String, uid: String) {
        let hex = String(uid.lowercased().filter(\.isHexDigit).prefix(12))
        namespace = "\(prefix)p-\(hex)"
        hostLink = "sbv\(hex)"
    }
}
