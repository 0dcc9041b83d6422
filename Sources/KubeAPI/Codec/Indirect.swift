/// An immutable heap box for a large value, so that the struct holding it copies one reference instead of dozens
/// of fields. Writes replace the box (copy on write, without any shared mutable state).
///
/// Pods are copied everywhere (lists, caches, controllers), and their spec and status are large: boxing them
/// keeps a copy of a `Pod` to three reference counts.
public final class Indirect<Value: Hashable & Sendable>: Hashable, Sendable {
    public let value: Value

    @inlinable
    public init(_ value: Value) { self.value = value }

    public static func == (lhs: Indirect, rhs: Indirect) -> Bool { lhs === rhs || lhs.value == rhs.value }

    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
