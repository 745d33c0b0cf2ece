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

    /// The streamed scan agrees with the whole-answer scan however the answer is cut into pieces.
    @Test(arguments: [
        #"[ {"infoCdrs": [ {"flowNo": 7, "a": "x\"]}"} , {"flowNo":"f-8","n":[1,{"b":null}],"date":"d"},3,"s", true, -1.5e3 ], "retCode": 0, "exception": null} ]"#,
        #"{"retCode": 0, "infoCdrs": [], "x": {"infoCdrs": [1]}}"#,
        #"{"exception": "nope \u4e2d", "retCode": -10003}"#,
        #"{"infoCdrs":[{"k":"\\"},{"k":"\"\\"}],"retCode":0}"#,
    ])
    func aStreamedScanFindsWhatTheWholeScanFinds(_ text: String) throws {
        let bytes = Array(text.utf8)
        let whole = try JSONElementScan(bytes, arrayKey: "infoCdrs")
        let expected = whole.elements.map { Array(bytes[$0]) }
        var cuts: [[Int]] = (0...bytes.count).map { [$0] }  // two pieces, cut at every byte
        cuts.append(Array(1..<bytes.count))                  // one byte at a time
        for cut in cuts {
            var stream = JSONArrayStream(arrayKey: "infoCdrs")
            var got: [[UInt8]] = []
            var from = 0
            for to in cut + [bytes.count] where to >= from {
                for r in try stream.feed(Array(bytes[from..<to])) { got.append(Array(stream.buffer[r])) }
                from = to
            }
            #expect(got == expected, "cut at \(cut.count == 1 ? "\(cut[0])" : "every byte")")
            #expect(try stream.finish() == whole.rest)
        }
    }

    @Test(arguments: [#"{"infoCdrs": [{"a": 1}"#, #"{"infoCdrs": [{"a" 1}]}"#, #"{"infoCdrs": [tru]}"#, #"{"infoCdrs": [-]}"#,
                      #"{"infoCdrs": ["open]}"#, #"{"infoCdrs": [1,]}"#, #"[{"a":1},{"b":2}]"#, #"{"infoCdrs": [1]} x"#,
                      #"{"infoCdrs": [1 2]}"#, #"{"infoCdrs": [,1]}"#, "<html>", #""text""#, "", #"{"infoCdrs": [1]"#])
    func aStreamRefusesWhatTheWholeScanRefuses(_ text: String) {
        for size in [1, 3, 1000] {
            #expect(throws: PluginError.self, "pieces of \(size)") {
                var stream = JSONArrayStream(arrayKey: "infoCdrs")
                let bytes = Array(text.utf8)
                for start in stride(from: 0, to: bytes.count, by: size) { _ = try stream.feed(Array(bytes[start..<min(start + size, bytes.count)])) }
                _ = try stream.finish()
            }
        }
    }
}
