import Foundation

extension EventLibrary {
    /// Shortest and longest share-link password, in characters.
    public static let passwordLengths = 4...1024
    /// Longer strings are no token this server issued (they are 43 characters), so they are not even hashed.
    static let maxTokenLength = 256

    /// Creates a link to an event within reach and returns it with its token, which is stored
    /// only as a SHA-256 digest (256 random bits need no slow hash) and cannot be read again.
    func createLink(
        reach: EventReach, event id: Int64, expiresAt: Date?, password: String, allowDownload: Bool
    ) async throws -> (link: ShareLink, token: String) {
        if let expiresAt, expiresAt <= Date() { throw APIError.invalid("expires_at", "is in the past") }
        if !password.isEmpty, !Self.passwordLengths.contains(password.count) {
            throw APIError.invalid(
                "password", "must be \(Self.passwordLengths.lowerBound) to \(Self.passwordLengths.upperBound) characters long, or empty for none")
        }
        _ = try await event(reach: reach, id: id)
        let passwordHash = password.isEmpty ? nil : try await hasher.hash(password)
        let linkID = UUID()
        let token = SessionRepository.newToken()
        let inserted = try await database.transaction { transaction in
            try await EventRepository.insertLink(
                id: linkID, reach: reach, event: id, tokenDigest: SessionRepository.digest(token), passwordHash: passwordHash,
                allowDownload: allowDownload, expiresAt: expiresAt, in: transaction)
        }
        guard inserted, let link = try await events.link(reach: reach, id: linkID) else { throw APIError.notFound("Event \(id)") }
        logger.info("share link created", metadata: ["event_id": "\(id)", "share_link_id": "\(linkID)"])
        return (link, token)
    }

    /// Stops a link of an event within reach from working; revoking a revoked link changes nothing.
    func revokeLink(reach: EventReach, id raw: String) async throws -> ShareLink {
        let id = try parseID(raw, field: "share_link_id")
        guard try await events.revoke(reach: reach, id: id), let link = try await events.link(reach: reach, id: id) else {
            throw APIError.notFound("Share link \(id.lowercased)")
        }
        logger.info("share link revoked", metadata: ["event_id": "\(link.eventID)", "share_link_id": "\(id)"])
        return link
    }

    /// A page of the links of an event within reach, newest first.
    func links(reach: EventReach, event id: Int64, includeRevoked: Bool, pageSize: Int32, pageToken: String) async throws -> ([ShareLink], String) {
        let size = try PageToken.pageSize(pageSize)
        _ = try await event(reach: reach, id: id)
        let scope = "share-links|\(id)|\(includeRevoked)"
        var cursor: (Int64, UUID)?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 2) {
            guard let micros = Int64(values[0]), let linkID = UUID(uuidString: values[1]) else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (micros, linkID)
        }
        let rows = try await events.links(event: id, includeRevoked: includeRevoked, after: cursor, limit: size + 1)
        var next = ""
        if rows.count > size { next = PageToken.encode(scope: scope, values: [String(rows[size - 1].1), rows[size - 1].0.id.lowercased]) }
        return (rows.prefix(size).map(\.0), next)
    }

    // MARK: - Guests

    /// The event a guest's token opens. Unknown, forged, revoked and expired tokens are refused
    /// alike; a password-protected link needs its password, and after too many wrong ones it
    /// refuses every guest until the window ends, so guessing stays slow.
    public func open(token: String, password: String) async throws -> SharedEvent {
        guard !token.isEmpty, token.utf8.count <= Self.maxTokenLength,
            let found = try await events.openLink(tokenDigest: SessionRepository.digest(token))
        else { throw EventError.linkNotWorking }
        let shared = found.shared
        if let passwordHash = found.passwordHash {
            guard !password.isEmpty else { throw EventError.passwordMissing }
            let key = "share-password:link:\(shared.linkID.lowercased)"
            let what = "wrong passwords for this share link"
            try await limiter.check(key, limit: limits.sharePasswordPerLink, what: what)
            let proof = CheckedPasswords.key(link: shared.linkID, passwordHash: passwordHash, password: password)
            if !checkedPasswords.contains(proof) {
                guard password.count <= Self.passwordLengths.upperBound, await hasher.verify(password, against: passwordHash) else {
                    try await limiter.hit(key, limit: limits.sharePasswordPerLink, what: what)
                    throw EventError.wrongPassword
                }
                checkedPasswords.insert(proof)
            }
        }
        try await events.touch(link: shared.linkID)
        return shared
    }

    /// The guest view of a shared event: the event without its owner, and a page of its
    /// images, oldest capture first.
    public func sharedView(_ shared: SharedEvent, pageSize: Int32, pageToken: String) async throws -> (event: Event, images: [ImageRecord], next: String) {
        var listing = ImageRepository.Listing()
        listing.eventID = shared.eventID
        listing.order = .takenAscending
        let (records, next) = try await images.list(owner: shared.ownerID, listing, pageSize: pageSize, pageToken: pageToken)
        guard let event = try await events.find(reach: .owner(shared.ownerID), id: shared.eventID) else { throw EventError.linkNotWorking }
        return (event, records, next)
    }

    /// The shared event's images in which the selfie's one face appears, closest first. Rate
    /// limited per link and per client address: each search costs a face analysis.
    public func findMyPhotos(
        _ shared: SharedEvent, peer: String, selfie: [UInt8], field: String, pageSize: Int32, pageToken: String
    ) async throws -> (hits: [ImageSearch.FaceHit], queryFace: (x: Int, y: Int, width: Int, height: Int), nextPageToken: String) {
        try await limiter.hit(
            "face-search:link:\(shared.linkID.lowercased)", limit: limits.faceSearchPerLink, what: "photo searches through this share link")
        try await limiter.hit("face-search:peer:\(peer)", limit: limits.faceSearchPerPeer, what: "photo searches from this address")
        return try await search.byFace(in: .event(shared), photo: selfie, field: field, choice: .onlyOne, pageSize: pageSize, pageToken: pageToken)
    }
}
