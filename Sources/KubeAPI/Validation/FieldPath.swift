/// A path to a field in an object, rendered as Kubernetes renders it: `spec.ports[1].name`,
/// `metadata.annotations[example.com/key]`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let description: String

    public init(_ root: String) { description = root }
    public init(stringLiteral value: String) { description = value }

    public func child(_ name: String) -> FieldPath {
        FieldPath(description.isEmpty ? name : description + "." + name)
    }

    public func index(_ i: Int) -> FieldPath { FieldPath(description + "[\(i)]") }

    public func key(_ k: String) -> FieldPath { FieldPath(description + "[\(k)]") }
}
