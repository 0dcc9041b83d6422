/// The API's answer to a failed (or some successful) request (`metav1.Status`).
public struct Status: Codable, Hashable, Sendable, Error, CustomStringConvertible {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Status"
    public var metadata: ListMeta? = ListMeta()
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    public var reason: StatusReason?
    public var details: StatusDetails?
    /// The HTTP status code.
    public var code: Int32?

    public init(
        status: String = "Failure", message: String, reason: StatusReason? = nil, details: StatusDetails? = nil,
        code: Int32
    ) {
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }

    public var description: String { message ?? reason?.rawValue ?? "unknown error" }
}

/// Machine-readable reason of a `Status` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, …).
public struct StatusReason: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let badRequest: StatusReason = "BadRequest"
    public static let unauthorized: StatusReason = "Unauthorized"
    public static let forbidden: StatusReason = "Forbidden"
    public static let notFound: StatusReason = "NotFound"
    public static let alreadyExists: StatusReason = "AlreadyExists"
    public static let conflict: StatusReason = "Conflict"
    public static let gone: StatusReason = "Gone"
    public static let expired: StatusReason = "Expired"
    public static let invalid: StatusReason = "Invalid"
    public static let methodNotAllowed: StatusReason = "MethodNotAllowed"
    public static let notAcceptable: StatusReason = "NotAcceptable"
    public static let unsupportedMediaType: StatusReason = "UnsupportedMediaType"
    public static let requestEntityTooLarge: StatusReason = "RequestEntityTooLarge"
    public static let tooManyRequests: StatusReason = "TooManyRequests"
    public static let internalError: StatusReason = "InternalError"
    public static let timeout: StatusReason = "Timeout"
    public static let serviceUnavailable: StatusReason = "ServiceUnavailable"
}

/// Which object a `Status` is about, and the individual problems.
public struct StatusDetails: Codable, Hashable, Sendable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?
    public var retryAfterSeconds: Int32?

    public init(
        name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
        causes: [StatusCause]? = nil, retryAfterSeconds: Int32? = nil
    ) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// One problem behind a `Status`: for validation, a field path and what is wrong there.
public struct StatusCause: Codable, Hashable, Sendable {
    /// `FieldValueRequired`, `FieldValueInvalid`, … or empty.
    public var reason: String?
    public var message: String?
    public var field: String?

    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}
