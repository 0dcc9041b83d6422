import KubeAPI

/// An accepted write and what to do once it is stored (or not): Services allocate ClusterIPs at admission,
/// commit releases the ones given up, revert gives back the ones taken.
struct Admission<Object: APIObject>: Sendable {
    var object: Object
    var commit: @Sendable () -> Void = {}
    var revert: @Sendable () -> Void = {}
}

/// How one kind is defaulted, validated and admitted.
struct ResourceBehaviour<Object: APIObject>: Sendable {
    /// Defaults, validation and (for Services) allocation of a new object. Throws a 422 `Status`.
    var admitCreate: @Sendable (Object, _ dryRun: Bool) throws(Status) -> Admission<Object>
    /// The same for a replacement of `old`.
    var admitUpdate: @Sendable (_ new: Object, _ old: Object, _ dryRun: Bool) throws(Status) -> Admission<Object>
    /// Work once the object is deleted (release ClusterIPs).
    var afterDelete: @Sendable (Object) -> Void = { _ in }
    /// The object's status, to keep across spec updates and to take from status updates.
    var copyStatus: @Sendable (_ from: Object, _ to: inout Object) -> Void = { _, _ in }
    /// The patch strategies of the kind's lists.
    var patchSchema: PatchSchema
    /// Upstream's PrepareForUpdate for a client's update of the main resource: fields only a subresource may
    /// change are taken from `old` (a namespace's spec.finalizers belong to `finalize`).
    var prepareForUpdate: @Sendable (_ new: inout Object, _ old: Object) -> Void = { _, _ in }

    /// Defaults then validation, for kinds without allocation.
    static func validating(
        schema: PatchSchema = .metadataOnly,
        defaults: @escaping @Sendable (inout Object) -> Void = { _ in },
        validate: @escaping @Sendable (Object) -> [FieldError],
        validateUpdate: (@Sendable (Object, Object) -> [FieldError])? = nil,
        copyStatus: @escaping @Sendable (Object, inout Object) -> Void = { _, _ in },
        prepareForUpdate: @escaping @Sendable (inout Object, Object) -> Void = { _, _ in }
    ) -> ResourceBehaviour {
        ResourceBehaviour(
            admitCreate: { object, _ throws(Status) in
                var o = object
                defaults(&o)
                let errors = validate(o)
                if !errors.isEmpty { throw Status.invalid(kind: Object.kind, group: Object.group, name: o.name, errors: errors) }
                return Admission(object: o)
            },
            admitUpdate: { new, old, _ throws(Status) in
                var o = new
                defaults(&o)
                let errors = validateUpdate.map { $0(o, old) } ?? (o.metadata.validateUpdate(from: old.metadata) + validate(o))
                if !errors.isEmpty { throw Status.invalid(kind: Object.kind, group: Object.group, name: o.name, errors: errors) }
                return Admission(object: o)
            },
            copyStatus: copyStatus,
            patchSchema: schema,
            prepareForUpdate: prepareForUpdate)
    }
}
