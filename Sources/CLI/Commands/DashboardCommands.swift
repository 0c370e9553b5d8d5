import ArgumentParser
import Foundation
import PhotoVaultProto

/// `photovault dashboard …`: DashboardService.
struct Dashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Figures about your library: stats, activity, storage, locations, people.",
        subcommands: [DashboardStats.self, DashboardActivity.self, DashboardStorage.self, DashboardLocations.self, DashboardPeople.self],
        defaultSubcommand: DashboardStats.self)
}

/// `--all-users`, for admins.
struct Scope: ParsableArguments {
    @Flag(help: "Every user's data (admins only).") var allUsers = false
}

struct DashboardStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counts and sizes.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var scope: Scope

    func run() async throws {
        let stats = try await withAPI(options) { api in
            try await api.call { try await api.dashboard.getStats(.with { $0.allUsers = scope.allUsers }, metadata: $0) }
        }
        if options.json { return Output.printJSON(stats) }
        let rows: [(String, String)] = [
            ("photos", "\(stats.imageCount)"), ("in the trash", "\(stats.trashedImageCount)"),
            ("originals", Format.bytes(stats.originalBytes)), ("previews and thumbnails", Format.bytes(stats.derivativeBytes)),
            ("albums", "\(stats.albumCount)"), ("places", "\(stats.placeCount)"), ("people", "\(stats.personCount)"),
            ("faces", "\(stats.faceCount)"), ("jobs pending", "\(stats.jobsPending)"), ("jobs failed", "\(stats.jobsFailed)"),
        ]
        for (label, value) in rows { print(label.padding(toLength: 24, withPad: " ", startingAt: 0) + value) }
    }
}

struct DashboardActivity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity", abstract: "Recent uploads, edits and deletions.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var scope: Scope
    @OptionGroup var paging: Paging

    func run() async throws {
        let (activities, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.dashboard.getRecentActivity(.with {
                        $0.allUsers = scope.allUsers
                        $0.pageSize = size
                        $0.pageToken = token
                    }, metadata: metadata)
                }
                return (reply.activities, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["activities": Output.objects(activities), "next_page_token": next]) }
        if activities.isEmpty { print("No activity.") }
        Format.table(["WHEN", "KIND", "SUMMARY"], activities.map { [Format.date($0.at), $0.kind, $0.summary] })
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct DashboardStorage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "storage", abstract: "Where the bytes are: by month, format, camera; largest photos; duplicates.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var scope: Scope
    @Option(help: "How many of the largest photos to list.") var largest: Int32?

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.dashboard.getStorageAnalysis(.with {
                    $0.allUsers = scope.allUsers
                    $0.largestLimit = largest ?? 0
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("By format:")
        for row in reply.byFormat { print("  \(Format.name(row.format)): \(row.imageCount) photos, \(Format.bytes(row.bytes))") }
        print("By month:")
        for row in reply.byMonth { print(String(format: "  %04d-%02d: ", row.year, row.month) + "\(row.imageCount) photos, \(Format.bytes(row.bytes))") }
        if !reply.byCamera.isEmpty {
            print("By camera:")
            for row in reply.byCamera {
                let camera = [row.make, row.model].filter { !$0.isEmpty }.joined(separator: " ")
                print("  \(camera.isEmpty ? "unknown camera" : camera): \(row.imageCount) photos, \(Format.bytes(row.bytes))")
            }
        }
        if !reply.largestImages.isEmpty {
            print("Largest:")
            for row in reply.largestImages { print("  \(row.imageID)  \(Format.bytes(row.byteSize))  \(row.fileName)") }
        }
        if !reply.duplicateSets.isEmpty {
            print("Duplicate sets:")
            for set in reply.duplicateSets { print("  \(set.imageIds.joined(separator: ", ")): \(Format.bytes(set.reclaimableBytes)) reclaimable") }
        }
        for user in reply.perUser { print("  \(user.email): \(user.imageCount) photos, \(Format.bytes(user.originalBytes + user.derivativeBytes))") }
        print("Encryption overhead: \(Format.bytes(reply.encryptionOverheadBytes))")
    }
}

struct DashboardLocations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "locations", abstract: "Countries and cities, and the share of photos with a position.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var scope: Scope
    @Option(help: "Grid cell size for map points, in degrees.") var cellDegrees: Double?

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.dashboard.getLocationAnalysis(.with {
                    $0.allUsers = scope.allUsers
                    $0.cellDegrees = cellDegrees ?? 0
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print(String(format: "%.0f%% of photos have a position; %d map points.", reply.gpsShare * 100, reply.points.count))
        for country in reply.countries {
            print("\(country.countryName) (\(country.countryCode)): \(country.imageCount) photos")
            for city in country.cities { print("  \(city.city): \(city.imageCount)") }
        }
    }
}

struct DashboardPeople: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "people", abstract: "Who is in most photos, who appears together, who is unnamed.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var scope: Scope
    @Option(help: "How many people and pairs to list (1–500).") var limit: Int32?

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.dashboard.getPersonAnalysis(.with {
                    $0.allUsers = scope.allUsers
                    $0.limit = limit ?? 0
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        let names = Dictionary(reply.people.map { ($0.personID, $0.name.isEmpty ? $0.personID : $0.name) }, uniquingKeysWith: { a, _ in a })
        Format.table(["PHOTOS", "PERSON"], reply.people.map { ["\($0.photoCount)", names[$0.personID] ?? $0.personID] })
        if !reply.pairs.isEmpty {
            print("Together most often:")
            for pair in reply.pairs {
                print("  \(names[pair.personAID] ?? pair.personAID) and \(names[pair.personBID] ?? pair.personBID): \(pair.sharedPhotoCount) photos")
            }
        }
        print("\(reply.unnamedClusterCount) people not named yet.")
    }
}
