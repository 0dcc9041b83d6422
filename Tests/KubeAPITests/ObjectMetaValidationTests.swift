import KubeAPI
import Testing

/// `ValidateObjectMeta` / `ValidateObjectMetaUpdate` (k8s-service-validation.md §4).
@Suite struct ObjectMetaValidationTests {
    private func validate(_ meta: ObjectMeta, _ rule: NameRule = .dns1123Subdomain, namespaced: Bool = true) -> [String] {
        messages(meta.validate(nameRule: rule, namespaced: namespaced))
    }

    private let base = ObjectMeta(name: "web", namespace: "default")

    @Test func validMetadata() {
        #expect(validate(base) == [])
        var meta = base
        meta.labels = ["app": "web", "example.com/tier": "", "app.kubernetes.io/name": "Web_1.x"]
        meta.annotations = ["kubectl.kubernetes.io/last-applied-configuration": "{}", "Example.COM/Key": "v"]
        meta.generation = 0
        meta.finalizers = ["example.com/cleanup"]
        #expect(validate(meta) == [])
    }

    @Test func nameOrGenerateNameRequired() {
        #expect(validate(ObjectMeta(namespace: "default")) == ["metadata.name: Required value: name or generateName is required"])
        #expect(validate(ObjectMeta(name: "", namespace: "default")) == ["metadata.name: Required value: name or generateName is required"])
        // generateName is completed into a name by the store before validation; the check itself still wants a name.
        #expect(validate(ObjectMeta(generateName: "web-", namespace: "default")) == [
            "metadata.name: Required value: name or generateName is required"
        ])
    }

    @Test(arguments: [NameRule.dns1035Label, .dns1123Label, .dns1123Subdomain])
    func generateNameWithTrailingDashIsValid(_ rule: NameRule) {
        let meta = ObjectMeta(name: "web-x7k2p", generateName: "web-", namespace: "default")
        #expect(validate(meta, rule) == [])
    }

    @Test func invalidGenerateName() {
        let meta = ObjectMeta(name: "web-abcde", generateName: "Web-", namespace: "default")
        #expect(validate(meta, .dns1035Label) == ["metadata.generateName: Invalid value: \"Web-\": \(Msg.dns1035)"])
        let noDash = ObjectMeta(name: "web-abcde", generateName: "web_", namespace: "default")
        #expect(validate(noDash, .dns1123Label) == ["metadata.generateName: Invalid value: \"web_\": \(Msg.dns1123Label)"])
    }

    /// `maskTrailingDash` replaces the final **two** characters with `a` (§4.1), so a 64-character prefix ending
    /// in `-` is checked as 63 characters, and `ab.-` is checked as `aba`.
    @Test func maskTrailingDashDropsTwoCharacters() {
        let long = String(repeating: "a", count: 63) + "-"
        #expect(validate(ObjectMeta(name: "web", generateName: long, namespace: "default"), .dns1035Label) == [])
        #expect(validate(ObjectMeta(name: "web", generateName: "ab.-", namespace: "default"), .dns1035Label) == [])
    }

    @Test func invalidNamePerRule() {
        #expect(validate(ObjectMeta(name: "Web", namespace: "default")) == [
            "metadata.name: Invalid value: \"Web\": \(Msg.dns1123Subdomain)"
        ])
        #expect(validate(ObjectMeta(name: "web.example", namespace: "default")) == [])
        #expect(validate(ObjectMeta(name: "web.example", namespace: "default"), .dns1123Label) == [
            "metadata.name: Invalid value: \"web.example\": must not contain dots"
        ])
        #expect(validate(ObjectMeta(name: "web.example", namespace: "default"), .dns1035Label) == [
            "metadata.name: Invalid value: \"web.example\": \(Msg.dns1035)"
        ])
    }

    @Test func namespaceRules() {
        #expect(validate(ObjectMeta(name: "web")) == ["metadata.namespace: Required value"])
        #expect(validate(ObjectMeta(name: "web", namespace: "")) == ["metadata.namespace: Required value"])
        #expect(validate(ObjectMeta(name: "web", namespace: "Default")) == [
            "metadata.namespace: Invalid value: \"Default\": \(Msg.dns1123Label)"
        ])
        #expect(validate(ObjectMeta(name: "web", namespace: "a.b")) == [
            "metadata.namespace: Invalid value: \"a.b\": must not contain dots"
        ])
        #expect(validate(ObjectMeta(name: "node-1"), namespaced: false) == [])
        #expect(validate(ObjectMeta(name: "node-1", namespace: "default"), namespaced: false) == [
            "metadata.namespace: Forbidden: not allowed on this type"
        ])
    }

    @Test func negativeGeneration() {
        var meta = base
        meta.generation = -1
        #expect(validate(meta) == ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"])
    }

    @Test func labelErrors() {
        var meta = base
        meta.labels = ["app": "-x"]
        #expect(validate(meta) == ["metadata.labels: Invalid value: \"-x\": \(Msg.labelValue)"])
        meta.labels = ["example.com/": "x"]
        #expect(validate(meta) == [
            "metadata.labels: Invalid value: \"example.com/\": name part must be non-empty",
            "metadata.labels: Invalid value: \"example.com/\": \(Msg.qualifiedNamePart)",
        ])
        meta.labels = ["/app": "x"]
        #expect(validate(meta) == ["metadata.labels: Invalid value: \"/app\": prefix part must be non-empty"])
        meta.labels = ["Example.com/app": "x"]
        #expect(validate(meta) == ["metadata.labels: Invalid value: \"Example.com/app\": prefix part \(Msg.dns1123Subdomain)"])
        let long = String(repeating: "v", count: 64)
        meta.labels = ["app": long]
        #expect(validate(meta) == ["metadata.labels: Invalid value: \"\(long)\": \(Msg.maxLen(63))"])
    }

    @Test func annotationKeysAreLowercasedBeforeTheCheck() {
        var meta = base
        meta.annotations = ["Example.COM/Key": "v"]
        #expect(validate(meta) == [])
        meta.annotations = ["-bad": "v"]
        #expect(validate(meta) == ["metadata.annotations: Invalid value: \"-bad\": \(Msg.qualifiedNamePart)"])
        meta.annotations = ["Bad_Prefix.com/key": "v"]
        #expect(validate(meta) == [
            "metadata.annotations: Invalid value: \"Bad_Prefix.com/key\": prefix part \(Msg.dns1123Subdomain)"
        ])
        meta.annotations = ["a/b/c": "v"]
        #expect(validate(meta) == ["metadata.annotations: Invalid value: \"a/b/c\": \(Msg.qualifiedNameTooManySlashes)"])
    }

    @Test func annotationSizeLimit() {
        #expect(ObjectMeta.totalAnnotationSizeLimit == 262_144)
        var meta = base
        meta.annotations = ["a": String(repeating: "x", count: 262_143)]  // 1 + 262143 = 262144 bytes
        #expect(validate(meta) == [])
        meta.annotations = ["a": String(repeating: "x", count: 262_144)]
        #expect(validate(meta) == ["metadata.annotations: Too long: must have at most 262144 bytes"])
        // Multi-byte characters count in bytes.
        meta.annotations = ["a": String(repeating: "é", count: 131_072)]  // 1 + 262144 bytes
        #expect(validate(meta) == ["metadata.annotations: Too long: must have at most 262144 bytes"])
        // Keys count too, summed over all entries.
        meta.annotations = ["k1": String(repeating: "x", count: 131_070), "k2": String(repeating: "x", count: 131_071)]
        #expect(validate(meta) == ["metadata.annotations: Too long: must have at most 262144 bytes"])
    }

    @Test func ownerReferences() {
        var meta = base
        meta.ownerReferences = [OwnerReference(apiVersion: "", kind: "ReplicaSet", name: "rs", uid: "u1")]
        #expect(validate(meta) == [#"metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty"#])
        meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "", name: "", uid: "")]
        #expect(validate(meta) == [
            #"metadata.ownerReferences.kind: Invalid value: "": must not be empty"#,
            #"metadata.ownerReferences.name: Invalid value: "": must not be empty"#,
            #"metadata.ownerReferences.uid: Invalid value: "": must not be empty"#,
        ])
        meta.ownerReferences = [
            OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "a", uid: "1", controller: true),
            OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "b", uid: "2", controller: true),
        ]
        let got = validate(meta)
        #expect(got.count == 1)
        #expect(got.first?.hasPrefix("metadata.ownerReferences: Invalid value: ") == true)
        #expect(got.first?.hasSuffix(
            #"Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b"#) == true)
    }

    /// apimachinery validates finalizer names at `metadata.finalizers` (no index, §4.1 item 8).
    @Test func finalizerNamesAreQualifiedNames() {
        var meta = base
        meta.finalizers = ["-x"]
        #expect(validate(meta).contains("metadata.finalizers: Invalid value: \"-x\": \(Msg.qualifiedNamePart)"))
    }

    @Test func orphanAndForegroundDeletionTogether() {
        var meta = base
        meta.finalizers = ["orphan", "foregroundDeletion"]
        let errors = meta.validate(nameRule: .dns1123Subdomain, namespaced: true)
        #expect(errors.contains { $0.field == "metadata.finalizers" && $0.detail == "finalizer orphan and foregroundDeletion cannot be both set" })
    }

    // MARK: Update (§4.2)

    @Test func updateImmutableFields() {
        let old = ObjectMeta(
            name: "web", namespace: "default", uid: "u1", resourceVersion: "5", generation: 3,
            creationTimestamp: Time(seconds: 1_700_000_000))
        #expect(messages(old.validateUpdate(from: old)) == [])

        var new = old
        new.name = "web2"
        #expect(messages(new.validateUpdate(from: old)) == [#"metadata.name: Invalid value: "web2": field is immutable"#])
        new = old
        new.namespace = "other"
        #expect(messages(new.validateUpdate(from: old)) == [#"metadata.namespace: Invalid value: "other": field is immutable"#])
        new = old
        new.uid = "u2"
        #expect(messages(new.validateUpdate(from: old)) == [#"metadata.uid: Invalid value: "u2": field is immutable"#])
        new = old
        new.creationTimestamp = Time(seconds: 1_700_000_001)
        #expect(new.validateUpdate(from: old).map(\.field) == ["metadata.creationTimestamp"])
        #expect(new.validateUpdate(from: old).first?.detail == "field is immutable")
        new = old
        new.deletionGracePeriodSeconds = 30
        #expect(messages(new.validateUpdate(from: old)) == ["metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"])
        new = old
        new.generation = 2
        #expect(messages(new.validateUpdate(from: old)) == ["metadata.generation: Invalid value: 2: must not be decremented"])
        new = old
        new.resourceVersion = "6"
        new.labels = ["a": "b"]
        new.annotations = ["x": "y"]
        #expect(messages(new.validateUpdate(from: old)) == [])
    }

    @Test func updateValidatesLabelsAndAnnotations() {
        let old = base
        var new = old
        new.labels = ["app": "-x"]
        new.annotations = ["-k": "v"]
        #expect(messages(new.validateUpdate(from: old)) == [
            "metadata.labels: Invalid value: \"-x\": \(Msg.labelValue)",
            "metadata.annotations: Invalid value: \"-k\": \(Msg.qualifiedNamePart)",
        ])
    }

    @Test func finalizersCanBeRemovedWhileDeleting() {
        var old = base
        old.deletionTimestamp = Time(seconds: 1_700_000_000)
        old.finalizers = ["example.com/a", "example.com/b"]
        var new = old
        new.finalizers = ["example.com/b"]
        #expect(messages(new.validateUpdate(from: old)) == [])
        new.finalizers = ["example.com/c", "example.com/b", "example.com/d"]
        #expect(messages(new.validateUpdate(from: old)) == [
            #"metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/c", "example.com/d"}"#
        ])
    }
}
