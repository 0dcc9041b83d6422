/// A parsed label selector: requirements that must all hold (`app=web,tier!=db,env in (a,b),!legacy`).
///
/// Matching is the hot path of the EndpointSlice controller and of every filtered list and watch, so requirements
/// are plain values and `matches` does one dictionary lookup per requirement.
public struct Selector: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Hashable, Sendable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public struct Requirement: Hashable, Sendable, CustomStringConvertible {
        public let key: String
        public let `operator`: Operator
        /// As given (sorted and unique when parsed from text); one value for the equality operators and `gt`/`lt`.
        public let values: [String]

        /// Upstream `NewRequirement`: checks the key, the number of values and each value (in the order given),
        /// and reports every problem at once.
        static func make(_ key: String, _ op: Operator, _ values: [String]?) throws(SelectorError) -> Requirement {
            var problems: [String] = []
            let keyProblems = NameValidation.qualifiedName(key)
            if !keyProblems.isEmpty {
                problems.append("key: Invalid value: \(BadValue.goQuote(key)): " + keyProblems.joined(separator: "; "))
            }
            let vals = values ?? []
            let rendered = BadValue.strings(values).rendered
            switch op {
            case .in, .notIn:
                if vals.isEmpty {
                    problems.append("values: Invalid value: \(rendered): for 'in', 'notin' operators, values set can't be empty")
                }
            case .equals, .doubleEquals, .notEquals:
                if vals.count != 1 {
                    problems.append("values: Invalid value: \(rendered): exact-match compatibility requires one single value")
                }
            case .exists, .doesNotExist:
                if !vals.isEmpty {
                    problems.append("values: Invalid value: \(rendered): values set must be empty for exists and does not exist")
                }
            case .greaterThan, .lessThan:
                if vals.count != 1 {
                    problems.append("values: Invalid value: \(rendered): for 'Gt', 'Lt' operators, exactly one value is required")
                }
                for (i, v) in vals.enumerated() where Int64(v) == nil {
                    problems.append("values[\(i)]: Invalid value: \(BadValue.goQuote(v)): for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            for (i, v) in vals.enumerated() {
                let msgs = NameValidation.labelValue(v)
                if !msgs.isEmpty {
                    problems.append("values[\(i)][\(key)]: Invalid value: \(BadValue.goQuote(v)): " + msgs.joined(separator: "; "))
                }
            }
            var unique: [String] = []
            for p in problems where !unique.contains(p) { unique.append(p) }
            if unique.count == 1 { throw SelectorError(unique[0]) }
            if unique.count > 1 { throw SelectorError("[" + unique.joined(separator: ", ") + "]") }
            return Requirement(key: key, operator: op, values: vals)
        }

        private init(key: String, operator: Operator, values: [String]) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }

        @inline(__always)
        public func matches(_ labels: [String: String]) -> Bool {
            switch self.operator {
            case .equals, .doubleEquals:
                return labels[key] == values[0]
            case .notEquals:
                return labels[key] != values[0]
            case .in:
                guard let v = labels[key] else { return false }
                return values.contains(v)
            case .notIn:
                guard let v = labels[key] else { return true }
                return !values.contains(v)
            case .exists:
                return labels[key] != nil
            case .doesNotExist:
                return labels[key] == nil
            case .greaterThan, .lessThan:
                guard let v = labels[key], let n = Int64(v), let bound = Int64(values[0]) else { return false }
                return self.operator == .greaterThan ? n > bound : n < bound
            }
        }

        public var description: String {
            switch self.operator {
            case .exists: key
            case .doesNotExist: "!" + key
            case .equals: "\(key)=\(values[0])"
            case .doubleEquals: "\(key)==\(values[0])"
            case .notEquals: "\(key)!=\(values[0])"
            case .in: "\(key) in (\(values.sorted().joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.sorted().joined(separator: ",")))"
            case .greaterThan: "\(key)>\(values[0])"
            case .lessThan: "\(key)<\(values[0])"
            }
        }
    }

    /// Sorted by key, as upstream keeps them.
    public let requirements: [Requirement]

    public init(_ requirements: [Requirement]) {
        self.requirements = requirements.enumerated().sorted {
            $0.element.key != $1.element.key ? $0.element.key < $1.element.key : $0.offset < $1.offset
        }.map(\.element)
    }

    /// Selects every object.
    public static let everything = Selector([])

    /// `k1=v1,k2=v2`: what a Service's `spec.selector` means.
    public init(matchLabels: [String: String]) throws(SelectorError) {
        var out: [Requirement] = []
        for key in matchLabels.keys.sorted() { out.append(try .make(key, .equals, [matchLabels[key]!])) }
        self.init(out)
    }

    /// Parses the string syntax used in `?labelSelector=` and `kubectl -l`.
    public init(parsing text: String) throws(SelectorError) {
        var parser = SelectorParser(text)
        self.init(try parser.parse())
    }

    public var isEverything: Bool { requirements.isEmpty }

    @inline(__always)
    public func matches(_ labels: [String: String]) -> Bool {
        // Indexed: iterating would copy (and reference-count) each requirement.
        for i in requirements.indices where !requirements[i].matches(labels) { return false }
        return true
    }

    /// Canonical text: requirements sorted by key, joined by commas.
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}
