import Foundation

/// Chips of several dates on one page: an SVG (written by lake) with each chip embedded as
/// PNG and its date beneath, up to `columns` per row — what `lake chip --all-clear` writes.
public enum ContactSheet {
    public static func svg(title: String, chips: [(label: String, png: [UInt8])], columns: Int = 6, cell: Int = 160) -> String {
        let cols = max(1, min(columns, chips.count))
        let rows = (chips.count + cols - 1) / cols
        let pad = 10, caption = 18, header = 28
        let width = cols * (cell + pad) + pad, height = header + rows * (cell + caption + pad) + pad
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="DejaVu Sans, sans-serif">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(pad)" y="20" font-size="14" fill="#222">\(escape(title))</text>

            """
        for (k, chip) in chips.enumerated() {
            let x = pad + (k % cols) * (cell + pad), y = header + (k / cols) * (cell + caption + pad)
            out += "<rect x=\"\(x - 1)\" y=\"\(y - 1)\" width=\"\(cell + 2)\" height=\"\(cell + 2)\" fill=\"#eee\" stroke=\"#bbb\"/>\n"
            out += "<image x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" preserveAspectRatio=\"xMidYMid meet\" style=\"image-rendering:pixelated\" "
            out += "href=\"data:image/png;base64,\(Data(chip.png).base64EncodedString())\"/>\n"
            out += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell + 14)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">\(escape(chip.label))</text>\n"
        }
        return out + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
