import ArgumentParser
import LakeAnalyticsCLI
import LakeCLI

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the lake about parcels.",
        subcommands: [QueryParcel.self, QueryAt.self, QueryPeers.self, QueryWithin.self, QueryStatsPeers.self])
}
