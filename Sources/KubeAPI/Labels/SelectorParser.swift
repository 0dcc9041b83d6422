/// The label selector grammar of `k8s.io/apimachinery/pkg/labels`, with its error messages:
/// `[!]key [(=|==|!=) value | (in|notin) (v1,v2) | (>|<) n]`, requirements separated by commas.
struct SelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case doesNotExist, equals, doubleEquals, notEquals, greaterThan, lessThan
        case `in`, notIn, openParen, closeParen, comma
        case endOfString
        case error(String)

        /// The literal text of the token, as upstream prints it in errors.
        var literal: String {
            switch self {
            case .identifier(let s): s
            case .doesNotExist: "!"
            case .equals: "="
            case .doubleEquals: "=="
            case .notEquals: "!="
            case .greaterThan: ">"
            case .lessThan: "<"
            case .in: "in"
            case .notIn: "notin"
            case .openParen: "("
            case .closeParen: ")"
            case .comma: ","
            case .endOfString: ""
            case .error(let s): s
            }
        }
    }

    private var tokens: [Token] = []
    private var position = 0

    init(_ text: String) {
        tokens = SelectorParser.lex(Array(text.unicodeScalars))
    }

    static func isSpecial(_ c: Unicode.Scalar) -> Bool { "=!(),><".unicodeScalars.contains(c) }
    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

    static func lex(_ s: [Unicode.Scalar]) -> [Token] {
        let symbols: [String: Token] = [
            "!": .doesNotExist, "=": .equals, "==": .doubleEquals, "!=": .notEquals, ">": .greaterThan,
            "<": .lessThan, "(": .openParen, ")": .closeParen, ",": .comma,
        ]
        var out: [Token] = []
        var i = 0
        while true {
            while i < s.count && isSpace(s[i]) { i += 1 }
            guard i < s.count else {
                out.append(.endOfString)
                return out
            }
            if isSpecial(s[i]) {
                // Longest run of symbols that still forms a known token.
                var buffer = ""
                var last: Token?
                var lastEnd = i
                var j = i
                while j < s.count && isSpecial(s[j]) {
                    buffer.unicodeScalars.append(s[j])
                    j += 1
                    if let t = symbols[buffer] {
                        last = t
                        lastEnd = j
                    } else if last != nil {
                        break
                    }
                }
                guard let token = last else {
                    out.append(.error("error expected: keyword found '\(buffer)'"))
                    return out
                }
                out.append(token)
                i = lastEnd
            } else {
                var word = ""
                while i < s.count && !isSpace(s[i]) && !isSpecial(s[i]) {
                    word.unicodeScalars.append(s[i])
                    i += 1
                }
                out.append(word == "in" ? .in : word == "notin" ? .notIn : .identifier(word))
            }
        }
    }

    /// In value position the keywords are plain identifiers.
    private func peekValue() -> Token {
        switch tokens[position] {
        case .in: .identifier("in")
        case .notIn: .identifier("notin")
        default: tokens[position]
        }
    }

    private mutating func nextValue() -> Token {
        let t = peekValue()
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private mutating func nextOperator() -> Token {
        let t = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    mutating func parse() throws(SelectorError) -> [Selector.Requirement] {
        var requirements: [Selector.Requirement] = []
        while true {
            switch peekValue() {
            case .identifier, .doesNotExist:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw SelectorError("unable to parse requirement: \(error.message)")
                }
                let t = nextValue()
                switch t {
                case .endOfString:
                    return requirements
                case .comma:
                    let after = peekValue()
                    switch after {
                    case .identifier, .doesNotExist: continue
                    default: throw SelectorError("found '\(after.literal)', expected: identifier after ','")
                    }
                default:
                    throw SelectorError("found '\(t.literal)', expected: ',' or 'end of string'")
                }
            case .endOfString:
                return requirements
            case let t:
                throw SelectorError("found '\(t.literal)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    private mutating func parseRequirement() throws(SelectorError) -> Selector.Requirement {
        var t = nextValue()
        var negated = false
        if t == .doesNotExist {
            negated = true
            t = nextValue()
        }
        guard case .identifier(let key) = t else { throw SelectorError("found '\(t.literal)', expected: identifier") }
        let keyProblems = NameValidation.qualifiedName(key)
        if !keyProblems.isEmpty {
            throw SelectorError("<nil>: Invalid value: \(BadValue.goQuote(key)): " + keyProblems.joined(separator: "; "))
        }
        let next = peekValue()
        // "!key" is complete by itself; whatever follows is the caller's to reject.
        if negated { return try .make(key, .doesNotExist, []) }
        if next == .endOfString || next == .comma { return try .make(key, .exists, []) }
        let opToken = nextOperator()
        let op: Selector.Operator
        switch opToken {
        case .in: op = .in
        case .notIn: op = .notIn
        case .equals: op = .equals
        case .doubleEquals: op = .doubleEquals
        case .notEquals: op = .notEquals
        case .greaterThan: op = .greaterThan
        case .lessThan: op = .lessThan
        default:
            throw SelectorError("found '\(opToken.literal)', expected: in, notin, =, ==, !=, gt, lt")
        }
        let values: [String]
        switch op {
        case .in, .notIn: values = try parseValueSet()
        default: values = try parseExactValue()
        }
        return try .make(key, op, values)
    }

    private mutating func parseExactValue() throws(SelectorError) -> [String] {
        let ahead = peekValue()
        if ahead == .endOfString || ahead == .comma { return [""] }
        let t = nextValue()
        guard case .identifier(let v) = t else { throw SelectorError("found '\(t.literal)', expected: identifier") }
        return [v]
    }

    private mutating func parseValueSet() throws(SelectorError) -> [String] {
        let open = nextValue()
        guard open == .openParen else { throw SelectorError("found '\(open.literal)' expected: '('") }
        let ahead = peekValue()
        switch ahead {
        case .identifier, .comma:
            // A set, as upstream's sets.String: unique and sorted.
            let values = try parseIdentifierList().sorted()
            let close = nextValue()
            guard close == .closeParen else { throw SelectorError("found '\(ahead.literal)', expected: ')'") }
            return values
        case .closeParen:
            _ = nextValue()
            return [""]
        default:
            throw SelectorError("found '\(ahead.literal)', expected: ',', ')' or identifier")
        }
    }

    private mutating func parseIdentifierList() throws(SelectorError) -> [String] {
        var values = Set<String>()
        while true {
            let t = nextValue()
            switch t {
            case .identifier(let v):
                values.insert(v)
                let after = peekValue()
                switch after {
                case .comma: continue
                case .closeParen: return Array(values)
                default: throw SelectorError("found '\(after.literal)', expected: ',' or ')'")
                }
            case .comma:
                if values.isEmpty { values.insert("") }
                let after = peekValue()
                if after == .closeParen {
                    values.insert("")
                    return Array(values)
                }
                if after == .comma {
                    _ = nextValue()
                    values.insert("")
                }
            default:
                throw SelectorError("found '\(t.literal)', expected: ',', or identifier")
            }
        }
    }
}
