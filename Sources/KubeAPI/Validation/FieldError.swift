/// One validation failure: where, what kind, the offending value and why. Renders exactly as the Kubernetes
/// API server renders a `field.Error`, since users and tools read these messages.
public struct FieldError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; its raw value is the `reason` of a `StatusCause`.
    public enum Kind: String, Hashable, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case duplicate = "FieldValueDuplicate"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case notFound = "FieldValueNotFound"
        case `internal` = "InternalError"

        /// The words the API server prints for this kind.
        public var text: String {
            switch self {
            case .required: "Required value"
            case .invalid: "Invalid value"
            case .duplicate: "Duplicate value"
            case .notSupported: "Unsupported value"
            case .forbidden: "Forbidden"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            case .notFound: "Not found"
            case .internal: "Internal error"
            }
        }

        /// Kinds whose message leaves the value out.
        var omitsValue: Bool { self == .required || self == .forbidden || self == .tooLong || self == .internal }
    }

    public var kind: Kind
    public var field: String
    public var value: BadValue
    public var detail: String

    public init(_ kind: Kind, _ field: FieldPath, value: BadValue = .none, detail: String = "") {
        self.kind = kind
        self.field = field.description
        self.value = value
        self.detail = detail
    }

    public static func required(_ field: FieldPath, _ detail: String = "") -> FieldError {
        FieldError(.required, field, detail: detail)
    }

    public static func invalid(_ field: FieldPath, _ value: BadValue, _ detail: String) -> FieldError {
        FieldError(.invalid, field, value: value, detail: detail)
    }

    public static func duplicate(_ field: FieldPath, _ value: BadValue) -> FieldError {
        FieldError(.duplicate, field, value: value)
    }

    public static func forbidden(_ field: FieldPath, _ detail: String) -> FieldError {
        FieldError(.forbidden, field, detail: detail)
    }

    public static func tooLong(_ field: FieldPath, maxBytes: Int) -> FieldError {
        FieldError(.tooLong, field, detail: "must have at most \(maxBytes) bytes")
    }

    /// `supported values: "A", "B"`, in the order given.
    public static func notSupported(_ field: FieldPath, _ value: BadValue, supported: [String]) -> FieldError {
        FieldError(
            .notSupported, field, value: value,
            detail: "supported values: " + supported.map(BadValue.goQuote).joined(separator: ", "))
    }

    /// The message without the field: `Duplicate value: "http"` (a `StatusCause` message).
    public var body: String {
        var s = kind.text
        if !kind.omitsValue, value != .none { s += ": " + value.rendered }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    /// `spec.ports[1].name: Duplicate value: "http"`.
    public var description: String { "\(field): \(body)" }
}

/// A value as it appears in a validation message (Go's `%#v` rendering, as the 1.32 API server prints it).
public enum BadValue: Hashable, Sendable {
    case none
    case null
    case string(String)
    case int(Int64)
    case bool(Bool)
    /// A Go slice of a string type: `[]string{"a", "b"}`, or `[]string(nil)` when nil.
    case stringSlice([String]?, goType: String)
    /// Rendered text used verbatim.
    case raw(String)

    public static func strings(_ values: [String]?) -> BadValue { .stringSlice(values, goType: "string") }

    public var rendered: String {
        switch self {
        case .none: ""
        case .null: "null"
        case .string(let s): BadValue.goQuote(s)
        case .int(let i): "\(i)"
        case .bool(let b): "\(b)"
        case .stringSlice(let values, let type):
            values.map { "[]\(type){" + $0.map(BadValue.goQuote).joined(separator: ", ") + "}" } ?? "[]\(type)(nil)"
        case .raw(let s): s
        }
    }

    /// Go's `%q`: double quotes, backslash escapes for quotes, backslashes and control characters.
    public static func goQuote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Array where Element == FieldError {
    /// Messages as `ErrorList.ToAggregate` renders them: duplicates dropped, one message bare, several in
    /// `[a, b]`. Empty when there are no errors.
    public var aggregateMessage: String {
        var seen = Set<String>()
        var messages: [String] = []
        for e in self where seen.insert(e.description).inserted { messages.append(e.description) }
        if messages.count == 1 { return messages[0] }
        return "[" + messages.joined(separator: ", ") + "]"
    }
}

extension Status {
    /// 422 Invalid: `<Kind> "<name>" is invalid: <errors>`, one cause per error.
    public static func invalid(kind: String, group: String = "", name: String, errors: [FieldError]) -> Status {
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        var message = "\(qualifiedKind) \(BadValue.goQuote(name)) is invalid"
        if !errors.isEmpty { message += ": " + errors.aggregateMessage }
        return Status(
            message: message, reason: .invalid,
            details: StatusDetails(
                name: name, group: group.isEmpty ? nil : group, kind: kind,
                causes: errors.map { StatusCause(reason: $0.kind.rawValue, message: $0.body, field: $0.field) }),
            code: 422)
    }

    /// 500 InternalError: `Internal error occurred: <message>`.
    public static func internalError(_ message: String) -> Status {
        Status(
            message: "Internal error occurred: \(message)", reason: .internalError,
            details: StatusDetails(causes: [StatusCause(message: message)]), code: 500)
    }

    /// 400 BadRequest with a message.
    public static func badRequest(_ message: String) -> Status {
        Status(message: message, reason: .badRequest, code: 400)
    }

    /// 404 NotFound: `services "web" not found`.
    public static func notFound(resource: String, group: String = "", name: String) -> Status {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        return Status(
            message: "\(qualified) \(BadValue.goQuote(name)) not found", reason: .notFound,
            details: StatusDetails(name: name, group: group.isEmpty ? nil : group, kind: resource), code: 404)
    }

    /// 409 AlreadyExists: `services "web" already exists`.
    public static func alreadyExists(resource: String, group: String = "", name: String) -> Status {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        return Status(
            message: "\(qualified) \(BadValue.goQuote(name)) already exists", reason: .alreadyExists,
            details: StatusDetails(name: name, group: group.isEmpty ? nil : group, kind: resource), code: 409)
    }

    /// 409 Conflict for a stale resourceVersion.
    public static func conflict(resource: String, group: String = "", name: String) -> Status {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        return Status(
            message: "Operation cannot be fulfilled on \(qualified) \(BadValue.goQuote(name)): the object has been "
                + "modified; please apply your changes to the latest version and try again",
            reason: .conflict,
            details: StatusDetails(name: name, group: group.isEmpty ? nil : group, kind: resource), code: 409)
    }
}
