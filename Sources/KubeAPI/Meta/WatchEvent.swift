/// The kind of a watch event.
public struct WatchEventType: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let added: WatchEventType = "ADDED"
    public static let modified: WatchEventType = "MODIFIED"
    public static let deleted: WatchEventType = "DELETED"
    public static let bookmark: WatchEventType = "BOOKMARK"
    public static let error: WatchEventType = "ERROR"
}

/// One line of a watch stream: `{"type":"ADDED","object":{...}}`. An `ERROR` event carries a `Status` instead of an
/// object of the watched kind.
public struct WatchEvent<Object: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    public var type: WatchEventType
    /// The object, for every type but `ERROR`.
    public var object: Object?
    /// The error, for `ERROR`.
    public var status: Status?

    public init(type: WatchEventType, object: Object) {
        self.type = type
        self.object = object
    }

    public init(error: Status) {
        self.type = .error
        self.status = error
    }

    enum CodingKeys: String, CodingKey { case type, object }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(WatchEventType.self, forKey: .type)
        if type == .error {
            status = try c.decode(Status.self, forKey: .object)
        } else {
            object = try c.decode(Object.self, forKey: .object)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        if let status {
            try c.encode(status, forKey: .object)
        } else {
            try c.encodeIfPresent(object, forKey: .object)
        }
    }
}
