/// Metadata every object has (`metav1.ObjectMeta`). All fields are optional so that a manifest round-trips exactly.
public struct ObjectMeta: Codable, Hashable, Sendable {
    public var name: String?
    /// A prefix the server completes with five random characters when `name` is empty.
    public var generateName: String?
    public var namespace: String?
    /// Deprecated and never set by the server; kept so that old manifests decode.
    public var selfLink: String?
    public var uid: String?
    /// Opaque to clients; a decimal number here.
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Time?
    public var deletionTimestamp: Time?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply bookkeeping, kept verbatim and never interpreted.
    public var managedFields: [JSONValue]?

    public init(
        name: String? = nil, generateName: String? = nil, namespace: String? = nil, uid: String? = nil,
        resourceVersion: String? = nil, generation: Int64? = nil, creationTimestamp: Time? = nil,
        deletionTimestamp: Time? = nil, deletionGracePeriodSeconds: Int64? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil,
        ownerReferences: [OwnerReference]? = nil, finalizers: [String]? = nil, managedFields: [JSONValue]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
        self.managedFields = managedFields
    }

    /// True once deletion has begun (`deletionTimestamp` set).
    public var isTerminating: Bool { deletionTimestamp != nil }
}

/// A link to an object that owns this one; the garbage collector deletes dependents when the owner goes.
public struct OwnerReference: Codable, Hashable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    /// True for the single managing controller.
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(
        apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
        blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// Metadata of a list (`metav1.ListMeta`).
public struct ListMeta: Codable, Hashable, Sendable {
    public var selfLink: String?
    public var resourceVersion: String?
    /// Token for the next page; empty or absent on the last page.
    public var `continue`: String?
    public var remainingItemCount: Int64?

    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
        self.remainingItemCount = remainingItemCount
    }
}

/// A reference to an object of any kind (`core/v1 ObjectReference`), as in an endpoint's `targetRef`.
public struct ObjectReference: Codable, Hashable, Sendable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(
        kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil,
        apiVersion: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil
    ) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}

/// A condition in the `metav1.Condition` shape (Service status conditions).
public struct Condition: Codable, Hashable, Sendable {
    public var type: String
    public var status: ConditionStatus
    public var observedGeneration: Int64?
    public var lastTransitionTime: Time?
    public var reason: String?
    public var message: String?

    public init(
        type: String, status: ConditionStatus, observedGeneration: Int64? = nil, lastTransitionTime: Time? = nil,
        reason: String? = nil, message: String? = nil
    ) {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}

/// `True`, `False` or `Unknown`.
public struct ConditionStatus: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let `true`: ConditionStatus = "True"
    public static let `false`: ConditionStatus = "False"
    public static let unknown: ConditionStatus = "Unknown"
}
