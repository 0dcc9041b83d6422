/// A label selector as API objects carry it (`metav1.LabelSelector`): `matchLabels` and `matchExpressions`, ANDed.
public struct LabelSelector: Codable, Hashable, Sendable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

public struct LabelSelectorRequirement: Codable, Hashable, Sendable {
    public var key: String
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

extension LabelSelector {
    /// The selector as a `Selector` (upstream `LabelSelectorAsSelector`). An empty one selects everything.
    /// Throws the first bad requirement's error, with upstream's message.
    public func asSelector() throws(SelectorError) -> Selector {
        var requirements: [Selector.Requirement] = []
        for key in (matchLabels ?? [:]).keys.sorted() {
            requirements.append(try Selector.Requirement.make(key, .equals, [matchLabels![key]!]))
        }
        for expression in matchExpressions ?? [] {
            let op: Selector.Operator
            switch expression.operator {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            default: throw SelectorError("\(BadValue.goQuote(expression.operator)) is not a valid label selector operator")
            }
            // Upstream copies values with append(nil, ...): an empty list becomes nil and is reported as such.
            let values = (expression.values ?? []).isEmpty ? nil : expression.values
            requirements.append(try Selector.Requirement.make(expression.key, op, values))
        }
        return Selector(requirements)
    }
}

/// A parse or validation failure of a selector; the message is what the API server answers.
public struct SelectorError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
