import ArgumentParser
import Foundation
import PhotoVaultProto

/// `photovault people …`: PeopleService.
struct People: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "People found by face: list, show, rename, merge, hide, images, reassign-face, recluster.",
        subcommands: [
            PeopleList.self, PersonShow.self, PersonRename.self, PeopleMerge.self, PersonHide.self, PersonImages.self,
            FaceReassign.self, PeopleRecluster.self,
        ],
        defaultSubcommand: PeopleList.self)
}

func printPerson(_ person: Photovault_V1_Person) {
    print("\(person.name.isEmpty ? "(unnamed)" : person.name)  (\(person.id))")
    print("  \(person.photoCount) photos, \(person.faceCount) faces\(person.hidden ? ", hidden" : "")")
    if person.hasBirthDate { print(String(format: "  born %04d-%02d-%02d", person.birthDate.year, person.birthDate.month, person.birthDate.day)) }
}

struct PeopleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List people.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Flag(help: "Hidden people too.") var includeHidden = false
    @Flag(help: "Only people with a name.") var namedOnly = false

    func run() async throws {
        let (people, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.people.listPeople(.with {
                        $0.pageSize = size
                        $0.pageToken = token
                        $0.includeHidden = includeHidden
                        $0.namedOnly = namedOnly
                    }, metadata: metadata)
                }
                return (reply.people, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["people": Output.objects(people), "next_page_token": next]) }
        if people.isEmpty { print("No people.") }
        Format.table(["ID", "PHOTOS", "NAME"], people.map { [$0.id, "\($0.photoCount)", $0.name.isEmpty ? "(unnamed)" : $0.name] })
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct PersonShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a person.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The person's id.") var id: String

    func run() async throws {
        let person = try await withAPI(options) { api in
            try await api.call { try await api.people.getPerson(.with { $0.personID = id }, metadata: $0) }.person
        }
        if options.json { Output.printJSON(person) } else { printPerson(person) }
    }
}

/// Shared by `rename` and `hide`.
func updatePerson(_ options: GlobalOptions, _ request: Photovault_V1_UpdatePersonRequest) async throws {
    let person = try await withAPI(options) { api in
        try await api.call { try await api.people.updatePerson(request, metadata: $0) }.person
    }
    if options.json { Output.printJSON(person) } else { printPerson(person) }
}

struct PersonRename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Name a person.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The person's id.") var id: String
    @Argument(help: "The name.") var name: String

    func run() async throws {
        try await updatePerson(options, .with {
            $0.personID = id
            $0.name = name
        })
    }
}

struct PersonHide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hide", abstract: "Hide a person (or show again with --unhide).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The person's id.") var id: String
    @Flag(help: "Show the person again.") var unhide = false

    func run() async throws {
        try await updatePerson(options, .with {
            $0.personID = id
            $0.hidden = !unhide
        })
    }
}

struct PeopleMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge people into one: their faces move to TARGET.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The person who stays.") var target: String
    @Argument(help: "The people merged into the target.") var sources: [String]

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.people.mergePeople(.with {
                    $0.targetPersonID = target
                    $0.sourcePersonIds = sources
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        print("Moved \(reply.movedFaceCount) faces.")
        printPerson(reply.person)
    }
}

struct PersonImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "The photos a person is in.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Argument(help: "The person's id.") var id: String

    func run() async throws {
        let (images, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.people.listPersonImages(.with {
                        $0.personID = id
                        $0.pageSize = size
                        $0.pageToken = token
                    }, metadata: metadata)
                }
                return (reply.images, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["images": Output.objects(images), "next_page_token": next]) }
        printImageTable(images.map(\.image))
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct FaceReassign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reassign-face", abstract: "Move a face to another person, to a new one, or to nobody (not a face of anyone here).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The face's id.") var face: String
    @Argument(help: "The person it belongs to (omit with --new-person or --nobody).") var person: String?
    @Flag(help: "Make a new person for it.") var newPerson = false
    @Flag(help: "Take it away from its person; clustering leaves it alone from then on.") var nobody = false

    func run() async throws {
        guard [person != nil, newPerson, nobody].filter({ $0 }).count == 1 else {
            throw fail(.usage("Give exactly one of a person id, --new-person or --nobody."))
        }
        let reply = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.people.reassignFace(.with {
                    $0.faceID = face
                    $0.personID = person ?? ""
                    $0.createPerson = newPerson
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(reply) }
        guard reply.hasPerson else { return print("Face \(reply.face.id) now belongs to nobody.") }
        print("Face \(reply.face.id) now belongs to:")
        printPerson(reply.person)
    }
}

struct PeopleRecluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recluster", abstract: "Group faces into people again (your edits are kept).")
    @OptionGroup var options: GlobalOptions
    @Flag(help: "Recluster every face, not only the new ones.") var full = false

    func run() async throws {
        let reply = try await withAPI(options) { api in
            try await api.call { try await api.people.recluster(.with { $0.full = full }, metadata: $0) }
        }
        if options.json { return Output.printJSON(reply) }
        print("Reclustering (job \(reply.jobID)): \(reply.faceCount) faces, \(reply.personCount) people.")
    }
}
