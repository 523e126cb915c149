import ArgumentParser
import Foundation
import LakeChips
import LakeCLI
import LakeQuery
import LakeStore
import LakeSupport

struct ChipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chip",
        abstract: "An image chip around a parcel from the scenes registered with `lake ingest scene`, its outline drawn (PNG).",
        discussion: """
            One date (--date) gives one PNG; --all-clear gives every date on which the parcel was cloud-free by its SCL \
            histogram (within --from/--to) as a contact sheet (--out F.svg) or one PNG per date (--out DIR). The window \
            lies on the first band's own pixel grid (its CRS and resolution); bands are resampled onto it by GDAL \
            (nearest neighbour: the pixels as they are). Colours: --bands R,G,B stretched between the 5th and 95th \
            percentile of each band over the chip (--lut as the JRC API: low_high percentiles, or six absolute values), \
            or --ndvi (B08, B04) on a brown–green ramp from −0.2 to 0.9.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier in the source data.") var id: String
    @Option(help: "Area of interest.") var aoi: String?
    @Option(help: "Declaration year.") var year: Int?
    @Option(help: "Parcel type (declaration set).") var ptype: String?
    @Option(help: "The scene's date (YYYY-MM-DD).") var date: String?
    @Flag(help: "Every date on which the parcel was cloud-free (SCL).") var allClear = false
    @Option(help: "With --all-clear: first date.") var from: String?
    @Option(help: "With --all-clear: last date.") var to: String?
    @Option(help: "Three bands as red, green, blue.") var bands: String = "B04,B03,B02"
    @Flag(help: "NDVI from B08 and B04 instead of a composite.") var ndvi = false
    @Option(help: "Stretch: low_high percentiles (5_95) or L1_H1_L2_H2_L3_H3 absolute DN.") var lut: String = "5_95"
    @Option(help: "Side of the chip in metres (default: the parcel with a margin, at least 128 pixels).") var size: Double?
    @Option(help: "Pixels per side of the PNG (default: the first band's own resolution).") var pixels: Int?
    @Option(help: "A .png file (one date), or with --all-clear a .svg contact sheet or a directory.") var out: String

    func validate() throws {
        for d in [date, from, to].compactMap({ $0 }) where !isCalendarDate(d) { throw ValidationError("\(d): not a date (YYYY-MM-DD)") }
        if allClear == (date != nil) { throw ValidationError("give --date D (one chip) or --all-clear (every cloud-free date)") }
        if !allClear && !out.lowercased().hasSuffix(".png") { throw ValidationError("--out: one chip is a .png file") }
        if let size, !(size > 0 && size <= 20_000) { throw ValidationError("--size is 0–20,000 m") }
        if let pixels, !(16...4096).contains(pixels) { throw ValidationError("--pixels is 16–4096") }
        if !ndvi && bands.split(separator: ",").count != 3 { throw ValidationError("--bands needs three bands (red, green, blue), e.g. B04,B03,B02") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let parcel = try ParcelLookup.byID(lake, id: id, aoi: aoi, year: year, ptype: ptype)
            let look: ChipLook = ndvi ? .ndvi : .composite(bands.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces).uppercased() })
            let stretch = try ChipStretch.parse(lut)
            let window = try ChipWindow.parcel(lake, pid: parcel.pid, size: size)
            var scenes = try ChipScenes.find(lake, bands: look.bands, from: allClear ? from : date, to: allClear ? to : date)
            if allClear {
                let clear = try ChipScenes.clearScenes(lake, pid: parcel.pid)
                scenes = scenes.filter { clear.contains($0.obsid) }
            }
            guard !scenes.isEmpty else {
                throw LakeError.notFound(allClear ? "no scene with \(look.bands.joined(separator: ", ")) files on which \(parcel.parcelID) was cloud-free (register band files with `lake ingest scene`)"
                                                  : "no scene of \(date!) with \(look.bands.joined(separator: ", ")) files (register band files with `lake ingest scene`)")
            }
            if !allClear {
                let chip = try ChipMaker.chip(window, scene: scenes[0], look: look, stretch: stretch, pixels: pixels)
                try chip.image.save(out)
                printError("\(parcel.parcelID): chip of \(scenes[0].date) (\(scenes[0].reference)), \(chip.image.grid.width)×\(chip.image.grid.height) px, written to \(out)")
                return 0
            }
            let progress = Progress("chips", total: scenes.count)
            var made: [(label: String, png: [UInt8])] = []
            let sheet = out.lowercased().hasSuffix(".svg")
            if !sheet { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            var missed = 0
            for scene in scenes {
                let chip = try ChipMaker.chip(window, scene: scene, look: look, stretch: stretch, pixels: pixels)
                progress.advance()
                // A scene whose files do not reach the parcel (another tile, an orbit's edge) has no chip.
                guard chip.coverage > 0 else { missed += 1; continue }
                if sheet {
                    made.append((scene.date, try chip.image.encoded()))
                } else {
                    let file = (out as NSString).appendingPathComponent("\(parcel.parcelID)_\(scene.date.replacingOccurrences(of: "-", with: "")).png")
                    try chip.image.save(file)
                    print(file)
                }
            }
            progress.finish()
            if sheet {
                let title = "\(parcel.parcelID) · \(parcel.cropName ?? parcel.cropCode ?? "") · \(look == .ndvi ? "NDVI" : look.bands.joined(separator: "/")) · cloud-free dates"
                do { try ContactSheet.svg(title: title, chips: made).write(toFile: out, atomically: true, encoding: .utf8) }
                catch { throw LakeError.usage("cannot write \(out): \(error.localizedDescription)") }
            }
            printError("\(parcel.parcelID): \(scenes.count - missed) cloud-free chips written to \(out)"
                       + (missed > 0 ? " (\(missed) scenes' files do not reach the parcel)" : ""))
            return 0
        }
    }
}
