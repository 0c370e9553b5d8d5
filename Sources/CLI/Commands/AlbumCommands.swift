import ArgumentParser
import Foundation
import PhotoVaultProto

/// `photovault albums …`: AlbumService.
struct Albums: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Albums: list, create, show, add, remove, rename, update, delete, generate, by-location, by-date.",
        subcommands: [
            AlbumList.self, AlbumCreate.self, AlbumShow.self, AlbumAdd.self, AlbumRemove.self, AlbumRename.self,
            AlbumUpdate.self, AlbumDelete.self, AlbumGenerate.self, AlbumsByLocation.self, AlbumsByDate.self,
        ],
        defaultSubcommand: AlbumList.self)
}

func albumKind(_ text: String) throws -> Photovault_V1_AlbumKind {
    switch text {
    case "manual": return .manual
    case "trip": return .trip
    case "location": return .location
    case "person": return .person
    default: throw fail(.usage("An album kind is manual, trip, location or person; not '\(text)'."))
    }
}

func albumSortOrder(_ text: String) throws -> Photovault_V1_AlbumSortOrder {
    switch text {
    case "taken-asc": return .takenAsc
    case "taken-desc": return .takenDesc
    case "added-asc": return .addedAsc
    case "added-desc": return .addedDesc
    default: throw fail(.usage("--sort must be taken-asc, taken-desc, added-asc or added-desc; not '\(text)'."))
    }
}

func printAlbum(_ album: Photovault_V1_Album) {
    print("\(album.title)  (\(album.id))")
    print("  kind \(Format.name(album.kind)), \(album.imageCount) photos, sorted \(Format.name(album.sortOrder))")
    if !album.description_p.isEmpty { print("  \(album.description_p)") }
    let place = placeText(album.place)
    if !place.isEmpty { print("  place \(place)") }
    if album.hasStartTime { print("  from \(Format.date(album.startTime)) to \(Format.date(album.endTime))") }
    if !album.coverImageID.isEmpty { print("  cover \(album.coverImageID)") }
}

func printNotFound(_ ids: [String]) {
    if !ids.isEmpty { Output.note("Not found: \(ids.joined(separator: ", "))") }
}

struct AlbumList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List your albums.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "Only albums of this kind: manual, trip, location, person.") var kind: String?
    @Option(help: "Only albums whose title contains this.") var query: String?

    func run() async throws {
        var request = Photovault_V1_ListAlbumsRequest()
        if let kind { request.kind = try albumKind(kind) }
        request.query = query ?? ""
        let (albums, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                request.pageSize = size
                request.pageToken = token
                let reply = try await api.call { try await api.albums.listAlbums(request, metadata: $0) }
                return (reply.albums, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["albums": Output.objects(albums), "next_page_token": next]) }
        if albums.isEmpty { print("No albums.") }
        Format.table(["ID", "KIND", "PHOTOS", "TITLE"], albums.map { [$0.id, Format.name($0.kind), "\($0.imageCount)", $0.title] })
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct AlbumCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an album, optionally with photos.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's title.") var title: String
    @Option(help: "A description.") var description: String?
    @Option(name: .customLong("image"), help: "A photo to put in it (repeatable).") var images: [String] = []
    @Option(help: "The cover photo.") var cover: String?
    @Option(help: "taken-asc, taken-desc, added-asc or added-desc.") var sort: String?

    func run() async throws {
        var request = Photovault_V1_CreateAlbumRequest()
        request.title = title
        request.description_p = description ?? ""
        request.imageIds = images
        request.coverImageID = cover ?? ""
        if let sort { request.sortOrder = try albumSortOrder(sort) }
        let reply = try await withAPI(options) { api in try await api.call { try await api.albums.createAlbum(request, metadata: $0) } }
        if options.json { return Output.printJSON(reply) }
        print("Created album \(reply.album.id) \"\(reply.album.title)\" with \(reply.album.imageCount) photos.")
        printNotFound(reply.notFoundImageIds)
    }
}

struct AlbumShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an album and its photos.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Argument(help: "The album's id.") var id: String

    func run() async throws {
        let (album, images, next) = try await withAPI(options) { api in
            let album = try await api.call { try await api.albums.getAlbum(.with { $0.albumID = id }, metadata: $0) }.album
            let (images, next) = try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.albums.listAlbumImages(.with {
                        $0.albumID = id
                        $0.pageSize = size
                        $0.pageToken = token
                    }, metadata: metadata)
                }
                return (reply.images, reply.nextPageToken)
            }
            return (album, images, next)
        }
        if options.json {
            return Output.printJSON(["album": Output.object(album), "images": Output.objects(images), "next_page_token": next])
        }
        printAlbum(album)
        print("")
        printImageTable(images)
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct AlbumAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add photos to an album.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's id.") var album: String
    @Argument(help: "Photo ids.") var images: [String]

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.albums.addImages(.with {
                    $0.albumID = album
                    $0.imageIds = images
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("Added \(reply.addedCount) photos; \"\(reply.album.title)\" has \(reply.album.imageCount).")
        printNotFound(reply.notFoundImageIds)
    }
}

struct AlbumRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Take photos out of an album (they stay in the library).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's id.") var album: String
    @Argument(help: "Photo ids.") var images: [String]

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.albums.removeImages(.with {
                    $0.albumID = album
                    $0.imageIds = images
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("Removed \(reply.removedCount) photos; \"\(reply.album.title)\" has \(reply.album.imageCount).")
        printNotFound(reply.notFoundImageIds)
    }
}

/// Shared by `rename` and `update`.
func updateAlbum(_ options: GlobalOptions, _ request: Photovault_V1_UpdateAlbumRequest) async throws {
    let album = try await withAPI(options) { api in try await api.call { try await api.albums.updateAlbum(request, metadata: $0) } }.album
    if options.json { return Output.printJSON(album) }
    printAlbum(album)
}

struct AlbumRename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Give an album a new title.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's id.") var id: String
    @Argument(help: "The new title.") var title: String

    func run() async throws {
        try await updateAlbum(options, .with {
            $0.albumID = id
            $0.title = title
        })
    }
}

struct AlbumUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change an album's title, description, cover or order.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's id.") var id: String
    @Option(help: "New title.") var title: String?
    @Option(help: "New description.") var description: String?
    @Option(help: "New cover photo.") var cover: String?
    @Option(help: "taken-asc, taken-desc, added-asc or added-desc.") var sort: String?

    func run() async throws {
        var request = Photovault_V1_UpdateAlbumRequest()
        request.albumID = id
        if let title { request.title = title }
        if let description { request.description_p = description }
        if let cover { request.coverImageID = cover }
        if let sort { request.sortOrder = try albumSortOrder(sort) }
        guard title != nil || description != nil || cover != nil || sort != nil else {
            throw fail(.usage("Nothing to change: give --title, --description, --cover or --sort."))
        }
        try await updateAlbum(options, request)
    }
}

struct AlbumDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an album (its photos stay in the library).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The album's id.") var id: String

    func run() async throws {
        _ = try await withAPI(options) { api in try await api.call { try await api.albums.deleteAlbum(.with { $0.albumID = id }, metadata: $0) } }
        if options.json { return Output.printJSON(["album_id": id, "deleted": true]) }
        print("Deleted album \(id).")
    }
}

struct AlbumGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Make trip and location albums from your photos.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Kinds to generate (repeatable): trip, location, person. Default: the server's.") var kind: [String] = []
    @Option(help: "A gap longer than this ends a trip (hours; server default 24).") var tripGapHours: Int32?

    func run() async throws {
        let kinds = try kind.map(albumKind)
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.albums.generateAlbums(.with {
                    $0.kinds = kinds
                    $0.tripGapHours = tripGapHours ?? 0
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("Created \(reply.createdCount) albums, updated \(reply.updatedCount).")
    }
}

struct AlbumsByLocation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "by-location", abstract: "Your photos grouped by country and city.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "Only this country (ISO code).") var country: String?

    func run() async throws {
        var unknown: Int64 = 0
        let (countries, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.albums.listByLocation(.with {
                        $0.pageSize = size
                        $0.pageToken = token
                        $0.countryCode = country ?? ""
                    }, metadata: metadata)
                }
                unknown = reply.unknownLocationCount
                return (reply.countries, reply.nextPageToken)
            }
        }
        if options.json {
            return Output.printJSON(["countries": Output.objects(countries), "unknown_location_count": unknown, "next_page_token": next])
        }
        for country in countries {
            print("\(country.countryName) (\(country.countryCode)): \(country.imageCount) photos")
            for city in country.cities { print("  \(city.city)\(city.adminRegion.isEmpty ? "" : ", \(city.adminRegion)"): \(city.imageCount)") }
        }
        print("Unknown place: \(unknown) photos")
    }
}

struct AlbumsByDate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "by-date", abstract: "Your photos grouped by year, month or day.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "year (default), month or day.") var granularity = "year"
    @Option(help: "Only this year.") var year: Int32?
    @Option(help: "Only this month (with --year).") var month: Int32?

    func run() async throws {
        let level: Photovault_V1_DateGranularity
        switch granularity {
        case "year": level = .year
        case "month": level = .month
        case "day": level = .day
        default: throw fail(.usage("--granularity must be year, month or day; not '\(granularity)'."))
        }
        var undated: Int64 = 0
        let (groups, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.albums.listByDate(.with {
                        $0.granularity = level
                        $0.year = year ?? 0
                        $0.month = month ?? 0
                        $0.pageSize = size
                        $0.pageToken = token
                    }, metadata: metadata)
                }
                undated = reply.undatedCount
                return (reply.groups, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["groups": Output.objects(groups), "undated_count": undated, "next_page_token": next]) }
        for group in groups {
            let date = [group.date.year, group.date.month, group.date.day].filter { $0 != 0 }.map { String(format: "%02d", $0) }.joined(separator: "-")
            print("\(date): \(group.imageCount) photos")
        }
        print("Undated: \(undated) photos")
    }
}
