import KubeAPI

/// What the EndpointSlice controller should write for one Service.
public struct EndpointSliceChanges: Sendable, Hashable {
    /// New slices, named (see `SliceNameGenerator`) and with `generateName` set as upstream sets it.
    public var creates: [EndpointSlice] = []
    /// Whole-object replacements of existing slices, by name.
    public var updates: [EndpointSlice] = []
    public var deletes: [EndpointSlice] = []
    /// Pods left out for now (their node is not known); the Service should be synced again later.
    public var skippedPods: [String] = []

    public init() {}

    /// True when nothing has to be written.
    public var isEmpty: Bool { creates.isEmpty && updates.isEmpty && deletes.isEmpty }

    mutating func append(_ other: EndpointSliceChanges) {
        creates += other.creates
        updates += other.updates
        deletes += other.deletes
        skippedPods += other.skippedPods
    }
}
