import Testing
@testable import UserspaceProxy

@Suite struct UserspaceProxyPlaceholderTests {
    @Test func configurationDefaults() { #expect(UserspaceProxyConfiguration().maxConnections == 10_000) }
}
