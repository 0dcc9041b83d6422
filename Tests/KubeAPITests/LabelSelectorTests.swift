import KubeAPI
import Testing

/// `labels.Parse`, `Selector.String()`, matching (k8s-service-validation.md §6.1).
@Suite struct LabelSelectorParsingTests {
    static let qualifiedNameMsg = Msg.qualifiedNamePart

    @Test(arguments: [
        ("=b", "found '=', expected: !, identifier, or 'end of string'"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
        ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("!(", "unable to parse requirement: found '(', expected: identifier"),
        ("! =a", "unable to parse requirement: found '=', expected: identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!a b", "found 'b', expected: ',' or 'end of string'"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        ("a in", "unable to parse requirement: found '' expected: '('"),
        ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a in (=", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"),
        ("a in (x", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (x,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a notin (x,y", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("a!=)", "unable to parse requirement: found ')', expected: identifier"),
        ("a in (x))", "found ')', expected: ',' or 'end of string'"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ])
    func errorTable(_ input: String, _ message: String) {
        #expect(labelSelectorError(input) == message)
    }

    @Test func invalidKeyUsesNilPath() {
        #expect(labelSelectorError("-a") == "unable to parse requirement: <nil>: Invalid value: \"-a\": \(Msg.qualifiedNamePart)")
        #expect(labelSelectorError("-a=b") == "unable to parse requirement: <nil>: Invalid value: \"-a\": \(Msg.qualifiedNamePart)")
        #expect(labelSelectorError("a/b/c=d") == "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": \(Msg.qualifiedNameTooManySlashes)")
        #expect(labelSelectorError("Bad_Prefix/-a")
            == "unable to parse requirement: <nil>: Invalid value: \"Bad_Prefix/-a\": prefix part \(Msg.dns1123Subdomain); \(Msg.qualifiedNamePart)")
        #expect(labelSelectorError("!-a") == "unable to parse requirement: <nil>: Invalid value: \"-a\": \(Msg.qualifiedNamePart)")
    }

    @Test func invalidValue() {
        #expect(labelSelectorError("a=-b-") == "unable to parse requirement: values[0][a]: Invalid value: \"-b-\": \(Msg.labelValue)")
        let long = String(repeating: "v", count: 64)
        #expect(labelSelectorError("a=\(long)") == "unable to parse requirement: values[0][a]: Invalid value: \"\(long)\": \(Msg.maxLen(63))")
        let longAndBad = String(repeating: "v", count: 64) + "-"
        #expect(labelSelectorError("a=\(longAndBad)")
            == "unable to parse requirement: values[0][a]: Invalid value: \"\(longAndBad)\": \(Msg.maxLen(63)); \(Msg.labelValue)")
    }

    /// Values of a set are sorted before `NewRequirement` validates them, and several errors are aggregated.
    @Test func severalInvalidValuesAreAggregatedInSortedOrder() {
        #expect(labelSelectorError("k in (-b,-a)")
            == "unable to parse requirement: [values[0][k]: Invalid value: \"-a\": \(Msg.labelValue), values[1][k]: Invalid value: \"-b\": \(Msg.labelValue)]")
        // With five values an unsorted (hash-ordered) implementation is caught almost always.
        let values = ["-e", "-c", "-a", "-d", "-b"]
        let expected = values.sorted().enumerated().map { i, v in "values[\(i)][k]: Invalid value: \"\(v)\": \(Msg.labelValue)" }
        #expect(labelSelectorError("k notin (\(values.joined(separator: ",")))")
            == "unable to parse requirement: [" + expected.joined(separator: ", ") + "]")
    }

    @Test func greaterAndLessThanNeedIntegers() {
        #expect(labelSelectorError("a>x")
            == #"unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer"#)
        #expect(labelSelectorError("a<1.5")
            == #"unable to parse requirement: values[0]: Invalid value: "1.5": for 'Gt', 'Lt' operators, the value must be an integer"#)
        #expect(labelSelectorError("a>") 
            == #"unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer"#)
    }

    /// `NewRequirement` validates every value as a label value, for `gt`/`lt` too: `-5` is an integer but not a
    /// label value.
    @Test func greaterThanValueMustAlsoBeALabelValue() {
        #expect(labelSelectorError("a>-5") == "unable to parse requirement: values[0][a]: Invalid value: \"-5\": \(Msg.labelValue)")
    }

    @Test(arguments: [
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        ("a in (y,x)", "a in (x,y)"),
        ("a in (x,x,y)", "a in (x,y)"),
        ("a notin (x)", "a notin (x)"),
        ("a", "a"),
        ("!a", "!a"),
        ("b=2,a=1", "a=1,b=2"),
        ("  a = b ,\tc\n,  ! d  ", "a=b,c,!d"),
        ("a=", "a="),
        ("a=,b", "a=,b"),
        ("a!=", "a!="),
        ("a>5", "a>5"),
        ("a<0", "a<0"),
        ("a in ()", "a in ()"),
        ("a in (,)", "a in ()"),
        ("a in (x,,y)", "a in (,x,y)"),
        ("a in (x,)", "a in (,x)"),
        ("a in (in,notin)", "a in (in,notin)"),
        ("x=in", "x=in"),
        ("in=x", "in=x"),
        ("example.com/app in (web, db)", "example.com/app in (db,web)"),
        ("app.kubernetes.io/name=Web_1.x", "app.kubernetes.io/name=Web_1.x"),
        ("z,y,x", "x,y,z"),
        ("", ""),
        ("   ", ""),
    ])
    func canonicalDescription(_ input: String, _ expected: String) throws {
        let selector = try Selector(parsing: input)
        #expect(selector.description == expected)
        // The canonical text parses back to the same selector.
        #expect(try Selector(parsing: selector.description) == selector)
    }

    @Test func requirementsAreSortedByKey() throws {
        let selector = try Selector(parsing: "tier!=db,app=web,env in (prod,staging),!legacy")
        #expect(selector.requirements.map(\.key) == ["app", "env", "legacy", "tier"])
        #expect(selector.requirements.map(\.operator) == [.equals, .in, .doesNotExist, .notEquals])
        #expect(selector.requirements[1].values == ["prod", "staging"])
        #expect(selector.description == "app=web,env in (prod,staging),!legacy,tier!=db")
    }

    @Test func emptySelectorIsEverything() throws {
        let selector = try Selector(parsing: "")
        #expect(selector.isEverything)
        #expect(selector == Selector.everything)
        #expect(selector.matches([:]))
        #expect(selector.matches(["a": "b"]))
        #expect(Selector.everything.description == "")
    }

    @Test(arguments: [
        // (selector, labels, matches)
        ("a=b", ["a": "b"], true),
        ("a=b", ["a": "c"], false),
        ("a=b", [:], false),
        ("a==b", ["a": "b"], true),
        ("a!=b", ["a": "c"], true),
        ("a!=b", ["a": "b"], false),
        ("a!=b", [:], true),
        ("a in (x,y)", ["a": "y"], true),
        ("a in (x,y)", ["a": "z"], false),
        ("a in (x,y)", [:], false),
        ("a notin (x,y)", ["a": "z"], true),
        ("a notin (x,y)", ["a": "x"], false),
        ("a notin (x,y)", [:], true),
        ("a", ["a": ""], true),
        ("a", ["b": "a"], false),
        ("!a", [:], true),
        ("!a", ["a": ""], false),
        ("a=", ["a": ""], true),
        ("a=", [:], false),
        ("a in ()", ["a": ""], true),
        ("a>5", ["a": "6"], true),
        ("a>5", ["a": "5"], false),
        ("a>5", ["a": "x"], false),
        ("a>5", [:], false),
        ("a<5", ["a": "-3"], true),
        ("a<5", ["a": "5"], false),
        ("a=b,c!=d", ["a": "b"], true),
        ("a=b,c!=d", ["a": "b", "c": "d"], false),
        ("a=b,c", ["a": "b"], false),
        ("a=b,c", ["a": "b", "c": "x"], true),
    ] as [(String, [String: String], Bool)])
    func matching(_ text: String, _ labels: [String: String], _ expected: Bool) throws {
        #expect(try Selector(parsing: text).matches(labels) == expected)
    }

    @Test func matchLabelsSelector() throws {
        let selector = try Selector(matchLabels: ["tier": "web", "app": "shop"])
        #expect(selector.description == "app=shop,tier=web")
        #expect(selector.matches(["app": "shop", "tier": "web", "extra": "x"]))
        #expect(!selector.matches(["app": "shop"]))
        #expect(try Selector(matchLabels: [:]).isEverything)
        #expect(throws: SelectorError.self) { try Selector(matchLabels: ["app": "-x"]) }
    }
}

/// `metav1.LabelSelectorAsSelector` (k8s-service-validation.md §6.2).
@Suite struct LabelSelectorAsSelectorTests {
    private func error(_ selector: LabelSelector) -> String? {
        do {
            _ = try selector.asSelector()
            return nil
        } catch {
            return error.message
        }
    }

    @Test func emptySelectorMatchesEverything() throws {
        let selector = try LabelSelector().asSelector()
        #expect(selector.isEverything)
        #expect(selector.matches(["anything": "goes"]))
        #expect(try LabelSelector(matchLabels: [:], matchExpressions: []).asSelector().isEverything)
    }

    @Test func matchLabelsAndExpressions() throws {
        let selector = try LabelSelector(
            matchLabels: ["app": "web"],
            matchExpressions: [
                LabelSelectorRequirement(key: "env", operator: "In", values: ["staging", "prod"]),
                LabelSelectorRequirement(key: "tier", operator: "NotIn", values: ["db"]),
                LabelSelectorRequirement(key: "canary", operator: "DoesNotExist"),
                LabelSelectorRequirement(key: "team", operator: "Exists", values: []),
            ]
        ).asSelector()
        #expect(selector.description == "app=web,!canary,env in (prod,staging),team,tier notin (db)")
        #expect(selector.matches(["app": "web", "env": "prod", "team": "a"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "a", "canary": "1"]))
        #expect(!selector.matches(["app": "web", "env": "dev", "team": "a"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "a", "tier": "db"]))
    }

    /// Values are copied with `append([]string(nil), values...)`, so an empty list renders as a nil slice.
    @Test(arguments: [[String]?.none, .some([])])
    func inWithoutValues(_ values: [String]?) {
        for op in ["In", "NotIn"] {
            let selector = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: op, values: values)])
            #expect(error(selector) == "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty")
        }
    }

    @Test func existsWithValues() {
        let selector = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: "Exists", values: ["a"])])
        #expect(error(selector) == #"values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist"#)
        let dne = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: "DoesNotExist", values: ["x", "y"])])
        #expect(error(dne) == #"values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist"#)
    }

    @Test(arguments: ["Foo", "in", "Equals", "", "Gt"])
    func unknownOperator(_ op: String) {
        let selector = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: op, values: ["1"])])
        #expect(error(selector) == "\"\(op)\" is not a valid label selector operator")
    }

    @Test func badKeyAndBadValue() {
        #expect(error(LabelSelector(matchLabels: ["bad key": "x"])) == "key: Invalid value: \"bad key\": \(Msg.qualifiedNamePart)")
        #expect(error(LabelSelector(matchLabels: ["k": "-x"])) == "values[0][k]: Invalid value: \"-x\": \(Msg.labelValue)")
        let expr = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "k", operator: "In", values: ["ok", "-x"])])
        #expect(error(expr) == "values[1][k]: Invalid value: \"-x\": \(Msg.labelValue)")
    }

    @Test func firstFailingRequirementWins() {
        let selector = LabelSelector(matchExpressions: [
            LabelSelectorRequirement(key: "a", operator: "Foo"),
            LabelSelectorRequirement(key: "b", operator: "In", values: []),
        ])
        #expect(error(selector) == #""Foo" is not a valid label selector operator"#)
    }

    @Test func decodesFromJSON() throws {
        let json = #"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["prod"]}]}"#
        let decoded = try KubeJSON.decode(LabelSelector.self, from: data(json))
        #expect(decoded.unknownFields == [])
        #expect(try decoded.value.asSelector().description == "app=web,env in (prod)")
    }
}
