/// How an object's name must look.
public enum NameRule: Sendable {
    /// DNS-1035 label (Services).
    case dns1035Label
    /// DNS-1123 label (Namespaces).
    case dns1123Label
    /// DNS-1123 subdomain (Pods, Nodes, EndpointSlices, most objects).
    case dns1123Subdomain

    func check(_ name: String, prefix: Bool) -> [String] {
        // A generateName prefix may end in "-": validate it as if it ended in a letter.
        // Upstream's maskTrailingDash replaces the last two characters with one "a".
        var value = name
        if prefix, value.utf8.count > 1, value.hasSuffix("-") {
            value = String(value.dropLast(2)) + "a"
        }
        switch self {
        case .dns1035Label: return NameValidation.dns1035Label(value)
        case .dns1123Label: return NameValidation.dns1123Label(value)
        case .dns1123Subdomain: return NameValidation.dns1123Subdomain(value)
        }
    }
}

extension ObjectMeta {
    /// Upper bound of the summed size of all annotation keys and values.
    public static let totalAnnotationSizeLimit = 256 * 1024

    /// `ValidateObjectMeta`: name (or generateName), namespace, labels, annotations, owner references.
    public func validate(nameRule: NameRule, namespaced: Bool, path: FieldPath = "metadata") -> [FieldError] {
        var errs: [FieldError] = []
        if let generateName, !generateName.isEmpty {
            for msg in nameRule.check(generateName, prefix: true) {
                errs.append(.invalid(path.child("generateName"), .string(generateName), msg))
            }
        }
        if let name, !name.isEmpty {
            for msg in nameRule.check(name, prefix: false) {
                errs.append(.invalid(path.child("name"), .string(name), msg))
            }
        } else {
            errs.append(.required(path.child("name"), "name or generateName is required"))
        }
        if namespaced {
            if let namespace, !namespace.isEmpty {
                for msg in NameValidation.dns1123Label(namespace) {
                    errs.append(.invalid(path.child("namespace"), .string(namespace), msg))
                }
            } else {
                errs.append(.required(path.child("namespace")))
            }
        } else if let namespace, !namespace.isEmpty {
            errs.append(.forbidden(path.child("namespace"), "not allowed on this type"))
        }
        if let generation, generation < 0 {
            errs.append(.invalid(path.child("generation"), .int(generation), "must be greater than or equal to 0"))
        }
        errs += NameValidation.labels(labels, at: path.child("labels"))
        errs += validateAnnotations(path: path.child("annotations"))
        errs += validateOwnerReferences(path: path.child("ownerReferences"))
        errs += validateFinalizers(path: path.child("finalizers"))
        return errs
    }

    /// Finalizers are qualified names, and an object cannot be orphaned and deleted in the foreground at once.
    private func validateFinalizers(path: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        let list = finalizers ?? []
        for finalizer in list {
            for msg in NameValidation.qualifiedName(finalizer) { errs.append(.invalid(path, .string(finalizer), msg)) }
        }
        if list.contains("orphan") && list.contains("foregroundDeletion") {
            errs.append(.invalid(path, .strings(list), "finalizer orphan and foregroundDeletion cannot be both set"))
        }
        return errs
    }

    /// Names Kubernetes itself uses as finalizers without a domain.
    public static let standardFinalizers: Set<String> = ["kubernetes", "orphan", "foregroundDeletion"]

    /// The core types' extra rule: a finalizer without a domain must be a standard one.
    public func validateKubernetesFinalizers(path: FieldPath = "metadata") -> [FieldError] {
        var errs: [FieldError] = []
        for (i, finalizer) in (finalizers ?? []).enumerated()
        where !finalizer.contains("/") && !Self.standardFinalizers.contains(finalizer) {
            errs.append(.invalid(
                path.child("finalizers").index(i), .string(finalizer),
                "name is neither a standard finalizer name nor is it fully qualified"))
        }
        return errs
    }

    private func validateAnnotations(path: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        var total = 0
        for key in (annotations ?? [:]).keys.sorted() {
            for msg in NameValidation.qualifiedName(key.lowercased()) { errs.append(.invalid(path, .string(key), msg)) }
            total += key.utf8.count + annotations![key]!.utf8.count
        }
        if total > Self.totalAnnotationSizeLimit { errs.append(.tooLong(path, maxBytes: Self.totalAnnotationSizeLimit)) }
        return errs
    }

    private func validateOwnerReferences(path: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        var controllers: [String] = []
        for ref in ownerReferences ?? [] {
            if ref.apiVersion.isEmpty { errs.append(.invalid(path.child("apiVersion"), .string(ref.apiVersion), "version must not be empty")) }
            if ref.kind.isEmpty { errs.append(.invalid(path.child("kind"), .string(ref.kind), "must not be empty")) }
            if ref.name.isEmpty { errs.append(.invalid(path.child("name"), .string(ref.name), "must not be empty")) }
            if ref.uid.isEmpty { errs.append(.invalid(path.child("uid"), .string(ref.uid), "must not be empty")) }
            if ref.controller == true { controllers.append("\(ref.kind)/\(ref.name)") }
        }
        if controllers.count > 1 {
            errs.append(.invalid(
                path, .raw("[]v1.OwnerReference{...}"),
                "Only one reference can have Controller set to true. Found \"true\" in references for "
                    + controllers.joined(separator: " and ")))
        }
        return errs
    }

    /// `ValidateObjectMetaUpdate`: identity fields are immutable, generation never goes down, and no finalizer
    /// may be added once deletion started. `resourceVersion` presence is the store's concern.
    public func validateUpdate(from old: ObjectMeta, path: FieldPath = "metadata") -> [FieldError] {
        var errs: [FieldError] = []
        if old.deletionTimestamp != nil {
            let added = Set(finalizers ?? []).subtracting(old.finalizers ?? [])
            if !added.isEmpty {
                errs.append(.forbidden(
                    path.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted, found new finalizers "
                        + BadValue.strings(added.sorted()).rendered))
            }
        }
        if let g = generation, let og = old.generation, g < og {
            errs.append(.invalid(path.child("generation"), .int(g), "must not be decremented"))
        }
        func immutable(_ field: String, _ new: String?, _ old: String?) {
            if (new ?? "") != (old ?? "") {
                errs.append(.invalid(path.child(field), new.map { .string($0) } ?? .null, "field is immutable"))
            }
        }
        immutable("name", name, old.name)
        immutable("namespace", namespace, old.namespace)
        immutable("uid", uid, old.uid)
        immutable("creationTimestamp", creationTimestamp?.rfc3339, old.creationTimestamp?.rfc3339)
        immutable("deletionTimestamp", deletionTimestamp?.rfc3339, old.deletionTimestamp?.rfc3339)
        if deletionGracePeriodSeconds != old.deletionGracePeriodSeconds {
            errs.append(.invalid(
                path.child("deletionGracePeriodSeconds"),
                deletionGracePeriodSeconds.map { .int($0) } ?? .null, "field is immutable"))
        }
        errs += NameValidation.labels(labels, at: path.child("labels"))
        errs += validateAnnotations(path: path.child("annotations"))
        errs += validateOwnerReferences(path: path.child("ownerReferences"))
        return errs
    }
}
