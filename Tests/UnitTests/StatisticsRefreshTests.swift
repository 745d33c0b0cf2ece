import Testing

@testable import Host

@Suite("When the PostgreSQL store refreshes its statistics")
struct StatisticsRefreshTests {
    @Test func onceAtTenThousandNewRowsOfACollectionThenAtEachTenfold() {
        let refresh = StatisticsRefresh()
        // Pages of 1,000: the tenth crosses 10,000, the hundredth 100,000; nothing in between.
        var crossed: [Int] = []
        for page in 1...120 where refresh.grew(by: 1_000, instance: "n1", collection: "cdrs") { crossed.append(page) }
        #expect(crossed == [10, 100])
        // Per collection: another one starts from zero; pages with no new rows count for nothing.
        #expect(!refresh.grew(by: 9_999, instance: "n1", collection: "customers"))
        #expect(!refresh.grew(by: 0, instance: "n1", collection: "customers"))
        #expect(refresh.grew(by: 1, instance: "n1", collection: "customers"))
        #expect(refresh.grew(by: 20_000, instance: "n2", collection: "cdrs"))
        #expect(!refresh.grew(by: 1, instance: "n2", collection: "cdrs"))
    }
}
