import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Flattens XML into property bags: one per `entry` element (Atom/OpenSearch feeds), or one
/// for the whole document (SAFE MTD_MSIL2A.xml / MTD_MSIL1C.xml). Keys are local element
/// names; the first occurrence wins.
final class XMLEntries: NSObject, XMLParserDelegate {
    private(set) var root: String?
    private(set) var entries: [[String: Any]] = []
    private(set) var document: [String: Any] = [:]
    private var current: [String: Any]?
    private var text = ""
    private(set) var failure: String?
    private(set) var failureLine = 0
    /// Elements opened and not closed yet: a document that ends inside one was cut short.
    private var open: [String] = []

    static func parse(_ data: Data) -> XMLEntries {
        let collector = XMLEntries()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        if !parser.parse() {
            collector.failure = parser.parserError.map { "\($0.localizedDescription)" } ?? "malformed XML"
            collector.failureLine = parser.lineNumber
        } else if let unclosed = collector.open.last {
            collector.failure = "the document ends inside <\(unclosed)>: it was cut short"
            collector.failureLine = parser.lineNumber
        } else if collector.root == nil {
            collector.failure = "no XML element"
            collector.failureLine = parser.lineNumber
        }
        return collector
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        open.append(name)
        if name == "entry" { current = [:] }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = open.popLast()
        if name == "entry", let entry = current {
            entries.append(entry)
            current = nil
        } else if !value.isEmpty {
            if current != nil { if current![name] == nil { current![name] = value } }
            else if document[name] == nil { document[name] = value }
        }
        text = ""
    }
}
