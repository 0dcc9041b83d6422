/// A value that is either a number or a name, such as a Service port's `targetPort` (8080 or "http").
public enum IntOrString: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral
{
    case int(Int32)
    case string(String)

    public init(integerLiteral value: Int32) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int32.self) {
            self = .int(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.typeMismatch(
                IntOrString.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected an integer or a string"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }

    public var description: String {
        switch self {
        case .int(let i): "\(i)"
        case .string(let s): s
        }
    }

    /// The number, when this is a number.
    public var intValue: Int32? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The name, when this is a name.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// True for 0 and "", the values Kubernetes treats as unset.
    public var isZero: Bool { self == .int(0) || self == .string("") }
}
