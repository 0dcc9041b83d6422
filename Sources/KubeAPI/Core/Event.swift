/// A record of something that happened to an object (`core/v1 Event`), shown by `kubectl describe`.
public struct Event: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Event"
    public static let resource = "events"
    public static let isNamespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var source: EventSource?
    public var firstTimestamp: Time?
    public var lastTimestamp: Time?
    public var count: Int32?
    /// `Normal` or `Warning`.
    public var type: String?
    public var eventTime: JSONValue?
    public var series: JSONValue?
    public var action: String?
    public var related: ObjectReference?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public init(
        metadata: ObjectMeta, involvedObject: ObjectReference, reason: String? = nil, message: String? = nil,
        type: String? = nil, source: EventSource? = nil, firstTimestamp: Time? = nil, lastTimestamp: Time? = nil,
        count: Int32? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.source = source
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.count = count
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        involvedObject = try c.decodeIfPresent(ObjectReference.self, forKey: .involvedObject) ?? ObjectReference()
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        source = try c.decodeIfPresent(EventSource.self, forKey: .source)
        firstTimestamp = try c.decodeIfPresent(Time.self, forKey: .firstTimestamp)
        lastTimestamp = try c.decodeIfPresent(Time.self, forKey: .lastTimestamp)
        count = try c.decodeIfPresent(Int32.self, forKey: .count)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        eventTime = try c.decodeIfPresent(JSONValue.self, forKey: .eventTime)
        series = try c.decodeIfPresent(JSONValue.self, forKey: .series)
        action = try c.decodeIfPresent(String.self, forKey: .action)
        related = try c.decodeIfPresent(ObjectReference.self, forKey: .related)
        reportingComponent = try c.decodeIfPresent(String.self, forKey: .reportingComponent)
        reportingInstance = try c.decodeIfPresent(String.self, forKey: .reportingInstance)
    }
}

public struct EventSource: Codable, Hashable, Sendable {
    public var component: String?
    public var host: String?
    public init(component: String? = nil, host: String? = nil) {
        self.component = component
        self.host = host
    }
}

extension Event {
    public static var selectableFields: [String] {
        [
            "metadata.name", "metadata.namespace", "involvedObject.kind", "involvedObject.namespace",
            "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
            "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
        ]
    }

    public func selectableFieldValue(_ field: String) -> String? {
        switch field {
        case "involvedObject.kind": involvedObject.kind ?? ""
        case "involvedObject.namespace": involvedObject.namespace ?? ""
        case "involvedObject.name": involvedObject.name ?? ""
        case "involvedObject.uid": involvedObject.uid ?? ""
        case "involvedObject.apiVersion": involvedObject.apiVersion ?? ""
        case "involvedObject.resourceVersion": involvedObject.resourceVersion ?? ""
        case "involvedObject.fieldPath": involvedObject.fieldPath ?? ""
        case "reason": reason ?? ""
        case "reportingComponent": reportingComponent ?? ""
        case "source": source?.component ?? ""
        case "type": type ?? ""
        default: metadataFieldValue(field)
        }
    }
}
