import KubeAPI
import Testing

/// `fields.ParseSelector` (k8s-service-validation.md §6.3) and per-resource selectable fields.
@Suite struct FieldSelectorTests {
    @Test(arguments: [
        ("metadata.name=web", "metadata.name=web"),
        ("metadata.name==web", "metadata.name=web"),
        ("spec.type!=ClusterIP", "spec.type!=ClusterIP"),
        ("metadata.namespace=default,metadata.name=web", "metadata.name=web,metadata.namespace=default"),
        ("b=1,a=2", "a=2,b=1"),
        (",a=b,,", "a=b"),
        ("a=", "a="),
        ("a!=", "a!="),
        ("", ""),
        (#"a=x\,y"#, #"a=x\,y"#),
        (#"a=x\=y"#, #"a=x\=y"#),
        (#"a=x\\y"#, #"a=x\\y"#),
        ("spec.nodeName=", "spec.nodeName="),
        ("a b=c d", "a b=c d"),
    ])
    func parseAndCanonicalText(_ input: String, _ expected: String) throws {
        let selector = try FieldSelector(parsing: input)
        #expect(selector.description == expected)
        #expect(try FieldSelector(parsing: selector.description) == selector)
    }

    @Test func requirementsAreSortedByTermText() throws {
        let selector = try FieldSelector(parsing: "status.phase!=Failed,metadata.name=web")
        #expect(selector.requirements.map(\.field) == ["metadata.name", "status.phase"])
        #expect(selector.requirements.map(\.negated) == [false, true])
        #expect(selector.requirements.map(\.value) == ["web", "Failed"])
    }

    @Test func escapesAreUnescapedInValues() throws {
        #expect(try FieldSelector(parsing: #"a=x\,y"#).requirements.first?.value == "x,y")
        #expect(try FieldSelector(parsing: #"a=x\=y"#).requirements.first?.value == "x=y")
        #expect(try FieldSelector(parsing: #"a=x\\y"#).requirements.first?.value == #"x\y"#)
        // An escaped comma does not split terms.
        #expect(try FieldSelector(parsing: #"a=1\,b"#).requirements.map(\.value) == ["1,b"])
    }

    @Test func operatorIsTheFirstOneFound() throws {
        // `!=` is tried first at each position, then `==`, then `=`.
        let a = try FieldSelector(parsing: "a!=b")
        #expect(a.requirements.first?.negated == true)
        let b = try FieldSelector(parsing: "a==b")
        #expect(b.requirements.first?.value == "b")
        #expect(b.requirements.first?.negated == false)
        let c = try FieldSelector(parsing: "a=!b")
        #expect(c.requirements.first?.value == "!b")
        #expect(c.requirements.first?.negated == false)
    }

    @Test(arguments: [
        ("abc", "invalid selector: 'abc'; can't understand 'abc'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("z,a=b", "invalid selector: 'z,a=b'; can't understand 'z'"),
        (#"a=b\x"#, #"invalid field selector: invalid escape sequence: \x"#),
        (#"a=b\"#, #"invalid field selector: invalid escape sequence: \"#),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a==b=c", "invalid field selector: unescaped character in value: 61"),
        ("a!==c", "invalid field selector: unescaped character in value: 61"),
    ])
    func errors(_ input: String, _ message: String) {
        #expect(fieldSelectorError(input) == message)
    }

    @Test func validateSupportedFields() throws {
        let selector = try FieldSelector(parsing: "metadata.name=web,spec.foo=bar")
        do {
            try selector.validate(supported: ["metadata.name", "metadata.namespace"])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == #""spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace""#)
        }
        try FieldSelector(parsing: "metadata.namespace=x").validate(supported: ["metadata.name", "metadata.namespace"])
        #expect(throws: SelectorError.self) { try FieldSelector(parsing: "spec.selector=x").validate(supported: Service.selectableFields) }
        try FieldSelector(parsing: "spec.clusterIP=None,spec.type=ClusterIP").validate(supported: Service.selectableFields)
    }

    @Test func selectableFieldsPerResource() {
        #expect(Service.selectableFields == ["metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"])
        #expect(Pod.selectableFields.contains("status.phase"))
        #expect(Pod.selectableFields.contains("spec.nodeName"))
        #expect(Node.selectableFields == ["metadata.name", "spec.unschedulable"])
        #expect(Namespace.selectableFields == ["metadata.name", "status.phase"])
    }

    @Test func matchesServiceFields() throws {
        let svc = makeService { $0.spec.type = .nodePort }
        let value = { (field: String) in svc.selectableFieldValue(field) }
        #expect(try FieldSelector(parsing: "spec.type=NodePort").matches(value))
        #expect(try !FieldSelector(parsing: "spec.type!=NodePort").matches(value))
        #expect(try FieldSelector(parsing: "metadata.namespace=default,metadata.name=web").matches(value))
        #expect(try FieldSelector(parsing: "spec.clusterIP=10.96.0.10").matches(value))
        #expect(try !FieldSelector(parsing: "metadata.name=other").matches(value))
        #expect(try FieldSelector(parsing: "metadata.name!=other").matches(value))
        #expect(FieldSelector.everything.matches(value))
        let headless = makeHeadlessService()
        #expect(try FieldSelector(parsing: "spec.clusterIP=None").matches { headless.selectableFieldValue($0) })
    }

    @Test func matchesPodFields() throws {
        var pod = makePod()
        pod.status.phase = .running
        pod.status.podIP = "10.244.0.5"
        let value = { (field: String) in pod.selectableFieldValue(field) }
        #expect(try FieldSelector(parsing: "status.phase=Running").matches(value))
        #expect(try FieldSelector(parsing: "status.phase!=Failed,status.phase!=Succeeded").matches(value))
        #expect(try FieldSelector(parsing: "spec.nodeName=").matches(value))
        #expect(try FieldSelector(parsing: "spec.restartPolicy=Always").matches(value))
        #expect(try FieldSelector(parsing: "spec.hostNetwork=false").matches(value))
        #expect(try FieldSelector(parsing: "status.podIP=10.244.0.5").matches(value))
        #expect(try !FieldSelector(parsing: "spec.nodeName=node-1").matches(value))
        #expect(pod.selectableFieldValue("spec.unknown") == nil)
    }

    @Test func exactName() throws {
        #expect(try FieldSelector(parsing: "metadata.name=web").exactName == "web")
        #expect(try FieldSelector(parsing: "metadata.name!=web").exactName == nil)
        #expect(try FieldSelector(parsing: "spec.type=NodePort").exactName == nil)
        #expect(FieldSelector.everything.isEverything)
    }
}
