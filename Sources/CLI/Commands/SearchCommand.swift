import ArgumentParser
import Foundation
import PhotoVaultProto

/// `photovault search`: by words and meaning with filters, by likeness to a photo, or by a face.
struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search your photos by meaning and words (Search), by likeness (--similar-to) or by a face (--face).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "What to look for, in words (may be empty when filters are given).") var query: [String] = []
    @Option(help: "Taken on or after this date (2024-06-03 or 2024-06-03T10:00:00Z).") var from: String?
    @Option(help: "Taken on or before this date.") var to: String?
    @Option(help: "Part of a city, region or country name, or an ISO country code.") var place: String?
    @Option(help: "Has this tag (repeatable).") var tag: [String] = []
    @Option(help: "In this album.") var album: String?
    @Option(help: "Shows this person (repeatable).") var person: [String] = []
    @Option(help: "Taken with this camera model, as its EXIF says (e.g. \"Pixel 8\"; any case).") var camera: String?
    @Option(help: "Taken with a camera of this make (e.g. Canon; any case).") var cameraMake: String?
    @Flag(inversion: .prefixedNo, help: "Only photos with (or without) faces.") var hasFaces: Bool?
    @Option(help: "Photos that look like this photo (SimilarImages).") var similarTo: String?
    @Option(help: "Photos of the face in this picture file (SearchByFace).") var face: String?
    @Option(help: "Results per page.") var pageSize: Int32?
    @Option(help: "Continue from a previous search's next page token.") var pageToken: String?

    func run() async throws {
        let text = query.joined(separator: " ")
        if similarTo != nil && face != nil { throw fail(.usage("Give --similar-to or --face, not both.")) }
        if let similarTo {
            let reply = try await withAPI(options) { api in
                try await api.call { metadata in
                    try await api.search.similarImages(.with {
                        $0.imageID = similarTo
                        $0.pageSize = pageSize ?? 0
                        $0.pageToken = pageToken ?? ""
                    }, metadata: metadata)
                }
            }
            if options.json { Output.printJSON(reply) } else { printHits(reply.hits, next: reply.nextPageToken) }
            return
        }
        if let face {
            guard let selfie = FileManager.default.contents(atPath: face) else { throw fail(.local("Cannot read \(face).")) }
            let reply = try await withAPI(options) { api in
                try await api.call { metadata in
                    try await api.search.searchByFace(.with {
                        $0.image = selfie
                        $0.pageSize = pageSize ?? 0
                        $0.pageToken = pageToken ?? ""
                    }, metadata: metadata)
                }
            }
            if options.json { Output.printJSON(reply); return }
            if reply.hits.isEmpty { print("No photos of that face.") }
            Format.table(["ID", "DISTANCE", "TAKEN", "NAME"], reply.hits.map {
                [$0.image.id, String(format: "%.3f", $0.distance), Format.date($0.image.takenAt), $0.image.fileName]
            })
            if !reply.nextPageToken.isEmpty { print("More: --page-token \(reply.nextPageToken)") }
            return
        }
        var filters = Photovault_V1_SearchFilters()
        if let range = try timeRange(from: from, to: to) { filters.taken = range }
        filters.place = place ?? ""
        filters.tags = tag
        filters.albumID = album ?? ""
        filters.personIds = person
        filters.cameraModel = camera ?? ""
        filters.cameraMake = cameraMake ?? ""
        if let hasFaces { filters.hasFaces_p = hasFaces }
        let request = Photovault_V1_SearchRequest.with {
            $0.query = text
            $0.filters = filters
            $0.pageSize = pageSize ?? 0
            $0.pageToken = pageToken ?? ""
        }
        let reply = try await withAPI(options) { api in
            try await api.call { try await api.search.search(request, metadata: $0) }
        }
        if options.json { Output.printJSON(reply) } else { printHits(reply.hits, next: reply.nextPageToken) }
    }

    func printHits(_ hits: [Photovault_V1_SearchHit], next: String) {
        if hits.isEmpty {
            print("Nothing found.")
            return
        }
        Format.table(["ID", "SCORE", "TAKEN", "NAME", "CAPTION"], hits.map { hit in
            [hit.image.id, String(format: "%.4f", hit.score), hit.image.hasTakenAt ? Format.date(hit.image.takenAt) : "-",
             hit.image.fileName, String(hit.image.caption.prefix(60))]
        })
        if !next.isEmpty { print("More: --page-token \(next)") }
    }
}
