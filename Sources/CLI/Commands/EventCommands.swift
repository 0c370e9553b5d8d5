import ArgumentParser
import Foundation
import GRPCCore
import PhotoVaultProto

/// `photovault events …`: EventService.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Events: create, list, show, add-images, share links (create, list, revoke), find-me.",
        subcommands: [EventCreate.self, EventList.self, EventShow.self, EventAddImages.self, EventShare.self, EventFindMe.self],
        defaultSubcommand: EventList.self)
}

func printEvent(_ event: Photovault_V1_Event) {
    print("\(event.title)  (event \(event.id))")
    print("  \(event.imageCount) photos\(event.location.isEmpty ? "" : ", \(event.location)")")
    if event.hasStartsAt { print("  from \(Format.date(event.startsAt)) to \(Format.date(event.endsAt))") }
    if !event.description_p.isEmpty { print("  \(event.description_p)") }
}

struct EventCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an event.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The event's title.") var title: String
    @Option(help: "A description.") var description: String?
    @Option(help: "Where it takes place.") var location: String?
    @Option(help: "When it starts (2024-06-03 or 2024-06-03T18:00:00Z).") var startsAt: String?
    @Option(help: "When it ends.") var endsAt: String?

    func run() async throws {
        var request = Photovault_V1_CreateEventRequest()
        request.title = title
        request.description_p = description ?? ""
        request.location = location ?? ""
        if let startsAt { request.startsAt = try parseTimestamp(startsAt, option: "--starts-at") }
        if let endsAt { request.endsAt = try parseTimestamp(endsAt, option: "--ends-at", endOfDay: true) }
        let event = try await withAPI(options) { api in try await api.call { try await api.events.createEvent(request, metadata: $0) } }.event
        if options.json { Output.printJSON(event) } else { printEvent(event) }
    }
}

struct EventList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List events.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Flag(help: "Every user's events (admins).") var allUsers = false

    func run() async throws {
        let (events, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.events.listEvents(.with {
                        $0.pageSize = size
                        $0.pageToken = token
                        $0.allUsers = allUsers
                    }, metadata: metadata)
                }
                return (reply.events, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["events": Output.objects(events), "next_page_token": next]) }
        if events.isEmpty { print("No events.") }
        Format.table(["ID", "STARTS", "PHOTOS", "TITLE"], events.map { ["\($0.id)", Format.date($0.startsAt), "\($0.imageCount)", $0.title] })
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct EventShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an event.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The event's id.") var id: Int64

    func run() async throws {
        let event = try await withAPI(options) { api in
            try await api.call { try await api.events.getEvent(.with { $0.eventID = id }, metadata: $0) }.event
        }
        if options.json { Output.printJSON(event) } else { printEvent(event) }
    }
}

struct EventAddImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-images", abstract: "Put photos of yours into an event.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The event's id.") var id: Int64
    @Argument(help: "Photo ids.") var images: [String]

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.events.addEventImages(.with {
                    $0.eventID = id
                    $0.imageIds = images
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("Added \(reply.addedCount) photos to event \(id).")
        printNotFound(reply.notFoundImageIds)
    }
}

/// `photovault events share …`: guest links.
struct EventShare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share", abstract: "Guest links to an event: create, list, revoke.",
        subcommands: [ShareCreate.self, ShareList.self, ShareRevoke.self])
}

struct ShareCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a guest link (its token is shown once).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The event's id.") var event: Int64
    @Option(help: "When the link stops working (2024-06-30 or a date and time).") var expires: String?
    @Flag(help: "Ask guests for a password (typed at a prompt, or read from stdin with --password-stdin).") var password = false
    @Flag(help: "Read the link's password from standard input.") var passwordStdin = false
    @Flag(help: "Let guests download the originals.") var allowDownload = false

    func run() async throws {
        var request = Photovault_V1_CreateShareLinkRequest()
        request.eventID = event
        request.allowDownload = allowDownload
        if let expires { request.expiresAt = try parseTimestamp(expires, option: "--expires", endOfDay: true) }
        if passwordStdin {
            request.password = readLine(strippingNewline: true) ?? ""
        } else if password {
            guard let typed = getpass("Password for the link: ") else { throw fail(.local("No password was entered.")) }
            request.password = String(cString: typed)
        }
        let link = try await withAPI(options) { api in try await api.call { try await api.events.createShareLink(request, metadata: $0) } }.link
        if options.json { return Output.printJSON(link) }
        print("Share link \(link.id) for event \(link.eventID)\(link.hasExpiresAt ? ", until \(Format.date(link.expiresAt))" : "").")
        print("Token (shown only now): \(link.token)")
        print("Guests: photovault events find-me SELFIE --link \(link.token)")
    }
}

struct ShareList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "An event's guest links (without their tokens).")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Argument(help: "The event's id.") var event: Int64
    @Flag(help: "Revoked links too.") var includeRevoked = false

    func run() async throws {
        let (links, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.events.listShareLinks(.with {
                        $0.eventID = event
                        $0.includeRevoked = includeRevoked
                        $0.pageSize = size
                        $0.pageToken = token
                    }, metadata: metadata)
                }
                return (reply.links, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["links": Output.objects(links), "next_page_token": next]) }
        if links.isEmpty { print("No share links.") }
        Format.table(["ID", "CREATED", "EXPIRES", "STATE"], links.map {
            [$0.id, Format.date($0.createdAt), Format.date($0.expiresAt), $0.revoked ? "revoked" : ($0.hasPassword_p ? "password" : "open")]
        })
    }
}

struct ShareRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a guest link.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The share link's id (not its token).") var id: String

    func run() async throws {
        let link = try await withAPI(options) { api in
            try await api.call { try await api.events.revokeShareLink(.with { $0.shareLinkID = id }, metadata: $0) }
        }.link
        if options.json { return Output.printJSON(link) }
        print("Revoked share link \(link.id).")
    }
}

/// `photovault events find-me SELFIE --link URL`: a guest's own photos of an event, by a selfie.
/// Needs no sign-in: the link is the guest's only key.
struct EventFindMe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-me", abstract: "Find the photos of an event that you are in, from a selfie and the event's share link.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A picture of your face (JPEG, PNG or WebP).") var selfie: String
    @Option(help: "The share link you were given (a URL or the bare token).") var link: String
    @Flag(help: "Read the link's password from standard input.") var passwordStdin = false
    @Option(help: "Matches per page.") var pageSize: Int32?
    @Option(help: "Continue from a previous answer's next page token.") var pageToken: String?

    func run() async throws {
        guard let token = Self.token(fromLink: link) else {
            throw fail(.usage("--link must be a share link or its token; '\(link)' holds none."))
        }
        guard let picture = FileManager.default.contents(atPath: selfie) else { throw fail(.local("Cannot read \(selfie).")) }
        let password = passwordStdin ? readLine(strippingNewline: true) ?? "" : ""
        let server = options.resolvedServer(signedIn: try? Credentials.load().server)
        let reply: Photovault_V1_FindMyPhotosResponse
        do {
            reply = try await withGRPCClient(transport: try transport(for: server, security: options.security)) { client in
                try await Photovault_V1_EventService.Client(wrapping: client).findMyPhotos(.with {
                    $0.shareToken = token
                    $0.password = password
                    $0.selfie = picture
                    $0.pageSize = pageSize ?? 0
                    $0.pageToken = pageToken ?? ""
                })
            }
        } catch {
            throw fail(CLIError(error))
        }
        if options.json { return Output.printJSON(reply) }
        if reply.matches.isEmpty { print("You are in none of this event's photos.") }
        Format.table(["PHOTO", "DISTANCE", "TAKEN"], reply.matches.map {
            [$0.image.id, String(format: "%.3f", $0.distance), Format.date($0.image.takenAt)]
        })
        if !reply.nextPageToken.isEmpty { print("More: --page-token \(reply.nextPageToken)") }
    }

    /// The token in a share link: its `token` (or `t`) query item, else its fragment, else its
    /// last path segment; a string that is not a URL is taken as the token itself.
    static func token(fromLink link: String) -> String? {
        let trimmed = link.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.contains("/") || trimmed.contains("?") || trimmed.contains("#"),
              let components = URLComponents(string: trimmed) else {
            return trimmed.isEmpty ? nil : trimmed
        }
        if let item = components.queryItems?.first(where: { $0.name == "token" || $0.name == "t" })?.value, !item.isEmpty {
            return item
        }
        if let fragment = components.fragment, !fragment.isEmpty {
            return fragment.hasPrefix("token=") ? String(fragment.dropFirst(6)) : fragment
        }
        let last = components.path.split(separator: "/").last.map(String.init)
        return last?.isEmpty == false ? last : nil
    }
}
