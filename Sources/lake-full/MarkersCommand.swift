import ArgumentParser
import LakeAnalyticsCLI
import LakeCLI
import Foundation
import LakeAnalytics
import LakeQuery
import LakeStore

struct Markers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find dated events (mowing, harvest, bare soil…) and decide per parcel, as an option file describes.",
        subcommands: [MarkersRun.self, MarkersShow.self])
}



