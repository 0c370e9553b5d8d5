import ArgumentParser
import Foundation
import PhotoVaultProto

/// `photovault admin …`: AdminService (admins only).
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administration: users (list, set-role, disable), jobs (list, retry), rotate-key.",
        subcommands: [AdminUsers.self, AdminJobs.self, AdminRotateKey.self])
}

func printUsers(_ users: [Photovault_V1_User]) {
    if users.isEmpty { print("No users.") }
    Format.table(["ID", "ROLE", "STATE", "LAST SIGN-IN", "E-MAIL", "NAME"], users.map {
        [$0.id, $0.role.name, $0.disabled ? "disabled" : "active", Format.date($0.lastLoginAt), $0.email, $0.name]
    })
}

struct AdminUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Accounts: list (default), set-role, disable.",
        subcommands: [UserList.self, UserSetRole.self, UserDisable.self], defaultSubcommand: UserList.self)
}

struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "Only accounts whose e-mail or name contains this.") var query: String?

    func run() async throws {
        let (users, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                let reply = try await api.call { metadata in
                    try await api.admin.listUsers(.with {
                        $0.pageSize = size
                        $0.pageToken = token
                        $0.query = query ?? ""
                    }, metadata: metadata)
                }
                return (reply.users, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["users": Output.objects(users), "next_page_token": next]) }
        printUsers(users)
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct UserSetRole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Make an account admin, photographer or member.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The account's id.") var user: String
    @Argument(help: "admin, photographer or member.") var role: String

    func run() async throws {
        let wanted: Photovault_V1_Role
        switch role {
        case "admin": wanted = .admin
        case "photographer": wanted = .photographer
        case "member": wanted = .member
        default: throw fail(.usage("A role is admin, photographer or member; not '\(role)'."))
        }
        let updated = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.admin.setUserRole(.with {
                    $0.userID = user
                    $0.role = wanted
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(updated) }
        print("\(updated.email) is now \(updated.role.name).")
    }
}

struct UserDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an account (ends its sessions), or enable it with --enable.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The account's id.") var user: String
    @Flag(help: "Enable the account again.") var enable = false

    func run() async throws {
        let updated = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.admin.disableUser(.with {
                    $0.userID = user
                    $0.disabled = !enable
                }, metadata: metadata)
            }
        }
        if options.json { return Output.printJSON(updated) }
        print("\(updated.email) is \(updated.disabled ? "disabled" : "enabled").")
    }
}

struct AdminJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Background jobs: list (default), retry.",
        subcommands: [JobList.self, JobRetry.self], defaultSubcommand: JobList.self)
}

struct JobList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "Only jobs in this state: queued, running, succeeded, failed, dead.") var state: String?
    @Option(help: "Only jobs of this kind (e.g. derivatives, analyze).") var kind: String?

    func run() async throws {
        var request = Photovault_V1_ListJobsRequest()
        switch state {
        case nil: break
        case "queued": request.state = .queued
        case "running": request.state = .running
        case "succeeded": request.state = .succeeded
        case "failed": request.state = .failed
        case "dead": request.state = .dead
        case let other?: throw fail(.usage("--state must be queued, running, succeeded, failed or dead; not '\(other)'."))
        }
        request.kind = kind ?? ""
        let (jobs, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                request.pageSize = size
                request.pageToken = token
                let reply = try await api.call { try await api.admin.listJobs(request, metadata: $0) }
                return (reply.jobs, reply.nextPageToken)
            }
        }
        if options.json { return Output.printJSON(["jobs": Output.objects(jobs), "next_page_token": next]) }
        if jobs.isEmpty { print("No jobs.") }
        Format.table(["ID", "KIND", "STATE", "ATTEMPTS", "IMAGE", "LAST ERROR"], jobs.map {
            [$0.id, $0.kind, Format.name($0.state), "\($0.attempts)/\($0.maxAttempts)", $0.imageID.isEmpty ? "-" : $0.imageID, String($0.lastError.prefix(60))]
        })
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

struct JobRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Run a failed or dead job again.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The job's id.") var id: String

    func run() async throws {
        let job = try await withAPI(options) { api in try await api.call { try await api.admin.retryJob(.with { $0.jobID = id }, metadata: $0) } }
        if options.json { return Output.printJSON(job) }
        print("Job \(job.id) (\(job.kind)) is \(Format.name(job.state)).")
    }
}

struct AdminRotateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate-key", abstract: "Make a new master key and re-wrap every data key with it.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let reply = try await withAPI(options) { api in try await api.call { try await api.admin.rotateMasterKey(.init(), metadata: $0) } }
        if options.json { return Output.printJSON(reply) }
        print("Master key version \(reply.newKeyVersion) is in use; \(reply.rewrappedKeys) data keys re-wrapped. Back up the key file now.")
    }
}
