import Foundation
import PluginAPI
import Testing

/// Scanning a large answer: element ranges instead of parsed elements, single fields read from an element.
@Suite("JSON element scan")
struct JSONElementScanTests {
    @Test func elementsAreTheirOwnBytesAndTheRestIsParsed() throws {
        let text = #"[ {"infoCdrs": [ {"flowNo": 7, "a": "x\"]}"} , {"flowNo":"f-8","n":[1,{"b":null}],"date":"d"},3,"s" ], "retCode": 0, "exception": null} ]"#
        let bytes = Array(text.utf8)
        let scan = try JSONElementScan(bytes, arrayKey: "infoCdrs")
        #expect(scan.rest == ["retCode": 0, "exception": .null])
        let elements = scan.elements.map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(elements == [#"{"flowNo": 7, "a": "x\"]}"}"#, #"{"flowNo":"f-8","n":[1,{"b":null}],"date":"d"}"#, "3", #""s""#])
        for (range, element) in zip(scan.elements, elements) {
            #expect(try JSONValue.parse(bytes[range]) == (try JSONValue.parse(Array(element.utf8))))
        }
        #expect(try JSONElementScan.fields(["flowNo", "date"], of: bytes, in: scan.elements[0]) == ["flowNo": 7])
        #expect(try JSONElementScan.fields(["flowNo", "date"], of: bytes, in: scan.elements[1]) == ["flowNo": "f-8", "date": "d"])
        #expect(try JSONElementScan.fields(["flowNo"], of: bytes, in: scan.elements[2]) == nil)
        #expect(try JSONElementScan(Array(#"{"infoCdrs": [], "retCode": 1}"#.utf8), arrayKey: "infoCdrs").elements.isEmpty)
    }

    @Test(arguments: [#"{"infoCdrs": [{"a": 1}"#, #"{"infoCdrs": [{"a" 1}]}"#, #"{"infoCdrs": [tru]}"#, #"{"infoCdrs": [-]}"#,
                      #"{"infoCdrs": ["open]}"#, #"{"infoCdrs": [1,]}"#, #"[{"a":1},{"b":2}]"#, #"{"infoCdrs": [1]} x"#])
    func malformedAnswersAreRefused(_ text: String) {
        #expect(throws: PluginError.self) { try JSONElementScan(Array(text.utf8), arrayKey: "infoCdrs") }
    }
}
