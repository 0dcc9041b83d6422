import IPAM

extension NFTablesModel {
    /// The model of a table as `nft list table` prints it, when the table was written by this layout for
    /// `configuration` (its comment says so); nil otherwise. This is how a restarted proxier adopts what the
    /// kernel has instead of rewriting it.
    public static func parse(listing: String, family: IPFamily, configuration: ProxyConfiguration) -> NFTablesModel? {
        guard listing.contains("comment \"\(NFTablesRuleset.configurationTag(configuration, family))\"") else { return nil }
        var model = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: family, configuration: configuration)
        var chains: Set<Int> = []
        var lines = listing.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        while let raw = lines.next() {
            let line = raw.trimmingWhitespace
            if line.hasPrefix("chain endpoints-"), let n = Int(line.dropFirst("chain endpoints-".count).prefix { $0.isNumber }) { chains.insert(n) }
            guard line.hasPrefix("set ") || line.hasPrefix("map ") else { continue }
            let name = String(line.dropFirst(4).prefix { $0 != " " })
            // The block's elements, possibly over several lines, up to the closing brace.
            var body = ""
            var inElements = false
            while let next = lines.next() {
                let text = next.trimmingWhitespace
                if !inElements && text == "}" { break }
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
            switch name {
            case "cluster-ips": model.clusterIPs = Set(elements)
            case "hairpin": model.hairpin = Set(elements)
            case "service-ips": model.serviceIPs = pairs()
            case "no-endpoints": model.noEndpoints = pairs()
            default:
                if name.hasPrefix("backends-"), let n = Int(name.dropFirst("backends-".count)) { model.backends[n] = pairs() }
            }
        }
        // A backends map without its chain (or the reverse) is not a table this layout wrote.
        let withElements = Set(model.backends.filter { !$0.value.isEmpty }.keys)
        guard withElements.isSubset(of: chains) else { return nil }
        // Empty lingering maps are not part of the model (they are what a full sync leaves out).
        model.backends = model.backends.filter { !$0.value.isEmpty }
        return model
    }
}

extension StringProtocol {
    var trimmingWhitespace: Substring {
        let s = Substring(self)
        guard let start = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = s.lastIndex(where: { !$0.isWhitespace })!
        return s[start...end]
    }
}
