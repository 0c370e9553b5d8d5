import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with posix_spawn and waitpid.
///
/// Foundation's `Process` can miss the exit of a child whose own child lives on (pg_ctl
/// leaves the server running), leaving a zombie and a caller waiting forever; waiting on
/// the pid directly cannot.
enum ChildProcess {
    /// Runs `path` with `arguments`, stdout and stderr into `outputFile`, stdin from /dev/null.
    /// - Returns: the exit status (128 + signal number when killed by a signal).
    static func run(_ path: String, _ arguments: [String], environment: [String: String], outputFile: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw EmbeddedPostgres.Failure(description: "Cannot start \(path): \(String(cString: strerror(spawned))).")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw EmbeddedPostgres.Failure(description: "Lost track of \(path).") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out since the macros are not imported.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}
