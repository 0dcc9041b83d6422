import IPAM

extension NFTablesModel {
    /// The model of a table as `nft list table` prints it, when the table was written by this layout for
    /// `configuration` (its comment says so); nil otherwise. This is how a restarted proxier adopts what the
    /// kernel has instead of rewriting it.
    public static func parse(listing: String, family: IPFamily, configuration: ProxyConfiguration) -> NFTablesModel? {
        guard listing.contains("comment \"\(NFTablesRuleset.configurationTag(configuration, family))\"") else { return nil }
        var model = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: family, configuration: configuration)
        var chains: Set<Int> = []
        var affinityChains: [String: [Substring]] = [:]
        var affinityTimeouts: [String: Int] = [:]
        var lines = listing.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        while let raw = lines.next() {
            let line = raw.trimmingWhitespace
            if line.hasPrefix("chain endpoints-"), let n = Int(line.dropFirst("chain endpoints-".count).prefix { $0.isNumber }) { chains.insert(n) }
            if line.hasPrefix("chain affinity-") {
                let name = String(line.dropFirst("chain ".count).prefix { $0 != " " })
                var rules: [Substring] = []
                while let next = lines.next() {
                    let text = next.trimmingWhitespace
                    if text == "}" { break }
                    rules.append(text)
                }
                affinityChains[name] = rules
                continue
            }
            guard line.hasPrefix("set ") || line.hasPrefix("map ") else { continue }
            let name = String(line.dropFirst(4).prefix { $0 != " " })
            // The block's elements, possibly over several lines, up to the closing brace.
            var body = ""
            var inElements = false
            while let next = lines.next() {
                let text = next.trimmingWhitespace
                if !inElements && text == "}" { break }
                if !inElements && text.hasPrefix("timeout ") { affinityTimeouts[name] = seconds(text.dropFirst("timeout ".count)) }
                if text.hasPrefix("elements = {") {
                    inElements = true
                    body += text.dropFirst("elements = {".count)
                } else if inElements {
                    body += " " + text
                }
                if inElements && body.hasSuffix("}") {
                    body.removeLast()
                    inElements = false
                }
            }
            let elements = body.split(separator: ",").map { String($0.trimmingWhitespace) }.filter { !$0.isEmpty }
            func pairs() -> [String: String] {
                var map: [String: String] = [:]
                for element in elements {
                    guard let colon = element.firstRange(of: " : ") else { continue }
                    map[String(element[..<colon.lowerBound])] = String(element[colon.upperBound...])
                }
                return map
            }
            if name.hasPrefix("affinity-") { continue }  // clients' pins: the kernel's, not ours
            switch name {
            case "cluster-ips": model.clusterIPs = Set(elements)
            case "hairpin": model.hairpin = Set(elements)
            case "service-ips": model.serviceIPs = pairs()
            case "no-endpoints": model.noEndpoints = pairs()
            default:
                if name.hasPrefix("backends-"), let n = Int(name.dropFirst("backends-".count)) { model.backends[n] = pairs() }
            }
        }
        // Affinity ports: `service-ips` names the port's chain, whose random choice names the endpoint chains,
        // each with its DNAT; the endpoint sets hold the timeout.
        for (key, verdict) in model.serviceIPs where verdict.hasPrefix("goto affinity-") {
            let chain = String(verdict.dropFirst("goto ".count))
            guard let rules = affinityChains[chain], let choice = rules.last(where: { $0.contains("numgen random") }) else { return nil }
            var endpoints: [EndpointTarget] = []
            var timeout: Int?
            for token in choice.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "}" }) where token.hasPrefix("\(chain)-") {
                let name = String(token)
                guard let dnat = affinityChains[name]?.first(where: { $0.contains("dnat") }), let target = Self.dnatTarget(dnat) else { return nil }
                endpoints.append(target)
                timeout = timeout ?? affinityTimeouts[name]
            }
            guard let timeout, !endpoints.isEmpty else { return nil }
            var port = AffinityPort(key: key, timeout: timeout, endpoints: endpoints)
            guard port.chain == chain else { return nil }
            port.endpoints = endpoints
            model.affinity[key] = port
        }
        // A backends map without its chain (or the reverse) is not a table this layout wrote.
        let withElements = Set(model.backends.filter { !$0.value.isEmpty }.keys)
        guard withElements.isSubset(of: chains) else { return nil }
        // Empty lingering maps are not part of the model (they are what a full sync leaves out).
        model.backends = model.backends.filter { !$0.value.isEmpty }
        return model
    }
}

extension NFTablesModel {
    /// `… dnat ip to 10.244.1.5:8080` or `… dnat ip6 to [fd00::5]:8080`.
    static func dnatTarget(_ rule: Substring) -> EndpointTarget? {
        guard let to = rule.firstRange(of: " to ") else { return nil }
        let target = rule[to.upperBound...].prefix { $0 != " " }
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else { return nil }
        var address = target[..<colon]
        if address.hasPrefix("[") && address.hasSuffix("]") { address = address.dropFirst().dropLast() }
        guard let ip = IPAddress(String(address)) else { return nil }
        return EndpointTarget(address: ip, port: port)
    }
}

/// A duration as nft prints it (`10800s` is listed as `3h`, 90061 s as `1d1h1m1s`), in seconds.
func seconds(_ text: Substring) -> Int? {
    var total = 0
    var number = 0
    var sawDigit = false
    for character in text {
        if let digit = character.wholeNumberValue {
            number = number * 10 + digit
            sawDigit = true
            continue
        }
        guard sawDigit else { return nil }
        switch character {
        case "d": total += number * 86400
        case "h": total += number * 3600
        case "m": total += number * 60
        case "s": total += number
        default: return nil
        }
        number = 0
        sawDigit = false
    }
    return sawDigit ? nil : total
}

extension StringProtocol {
    var trimmingWhitespace: Substring {
        let s = Substring(self)
        guard let start = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = s.lastIndex(where: { !$0.isWhitespace })!
        return s[start...end]
    }
}
