import Foundation

/// Headline figures of a library.
public struct LibraryStats: Sendable, Equatable {
    public var imageCount: Int64 = 0
    public var trashedImageCount: Int64 = 0
    /// Originals' plaintext bytes, trash included.
    public var originalBytes: Int64 = 0
    public var derivativeBytes: Int64 = 0
    /// 0 until the people feature exists.
    public var personCount: Int64 = 0
    public var albumCount: Int64 = 0
    public var placeCount: Int64 = 0
    public var faceCount: Int64 = 0
    public var jobsPending: Int64 = 0
    public var jobsFailed: Int64 = 0
}

/// One entry of the activity feed.
public struct ActivityEntry: Sendable, Equatable {
    public var id: Int64
    /// The public kind ("image_uploaded", "album_created", …).
    public var kind: String
    public var imageID: UUID?
    public var albumID: UUID?
    /// Empty for the server's background work.
    public var actorID: UUID?
    public var summary: String
    public var at: Date
}

/// Where the storage goes.
public struct StorageAnalysis: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var label: [String]
        public var imageCount: Int64
        public var bytes: Int64
    }
    public struct Largest: Sendable, Equatable {
        public var imageID: UUID
        public var ownerID: UUID
        public var fileName: String
        public var byteSize: Int64
    }
    public struct DuplicateSet: Sendable, Equatable {
        /// The shared SHA-256 (hex) when every copy has the same bytes, else "".
        public var sha256: String
        public var imageIDs: [UUID]
        public var reclaimableBytes: Int64
    }
    public struct UserShare: Sendable, Equatable {
        public var userID: UUID
        public var email: String
        public var name: String
        public var imageCount: Int64
        public var originalBytes: Int64
        public var derivativeBytes: Int64
    }

    /// Year and month (1–12) as two labels.
    public var byMonth: [Bucket] = []
    /// The format name as the one label.
    public var byFormat: [Bucket] = []
    /// Make and model.
    public var byCamera: [Bucket] = []
    public var largest: [Largest] = []
    public var duplicates: [DuplicateSet] = []
    public var encryptionOverheadBytes: Int64 = 0
    public var perUser: [UserShare] = []
}

/// Where the photos were taken.
public struct LocationAnalysis: Sendable, Equatable {
    public struct MapPoint: Sendable, Equatable {
        public var latitude: Double
        public var longitude: Double
        public var imageCount: Int64
    }
    public var countries: [CountryCount] = []
    /// Share of images with a GPS position, 0–1.
    public var gpsShare: Double = 0
    public var points: [MapPoint] = []
}

/// People by photo count, who appears with whom, and what is left to name.
public struct PersonAnalysis: Sendable, Equatable {
    public struct PersonPhotos: Sendable, Equatable {
        public var personID: UUID
        public var name: String
        public var photoCount: Int64
        public var coverFaceID: UUID?
    }

    public struct Pair: Sendable, Equatable {
        public var personA: UUID
        public var personB: UUID
        public var sharedPhotoCount: Int64
    }

    public var people: [PersonPhotos] = []
    public var pairs: [Pair] = []
    public var unnamedClusterCount: Int64 = 0
}

/// The dashboard domain: read-only figures over a ``DashboardScope``. Trashed images are left
/// out unless a figure says otherwise.
public struct Dashboard: Sendable {
    let repository: DashboardRepository
    let database: Database

    public init(database: Database) {
        self.database = database
        self.repository = DashboardRepository(database: database)
    }

    public func stats(_ scope: DashboardScope) async throws -> LibraryStats {
        try await repository.stats(scope)
    }

    /// A page of the activity feed, newest first.
    public func activity(_ scope: DashboardScope, pageSize: Int32, pageToken: String) async throws -> ([ActivityEntry], String) {
        let size = try PageToken.pageSize(pageSize)
        let tokenScope = "activity|\(scope.owner?.lowercased ?? "all")"
        var before: Int64?
        if let values = try PageToken.decode(pageToken, scope: tokenScope, count: 1) {
            guard let id = Int64(values[0]) else { throw APIError.invalid("page_token", "is not a token this server issued") }
            before = id
        }
        let rows = try await repository.activity(scope, before: before, limit: size + 1)
        let next = rows.count > size ? PageToken.encode(scope: tokenScope, values: [String(rows[size - 1].id)]) : ""
        return (Array(rows.prefix(size)), next)
    }

    /// Storage by month, format and camera, the `largestLimit` largest images (1–100, 0 → 20),
    /// duplicate sets, encryption overhead and, for everyone, each user's share.
    public func storage(_ scope: DashboardScope, largestLimit: Int32) async throws -> StorageAnalysis {
        let limit = try PageToken.pageSize(largestLimit, default: 20, maximum: 100, field: "largest_limit")
        return try await repository.storage(scope, largestLimit: limit)
    }

    /// The `limit` (1–500, 0 → 50) people with most photos, the pairs seen together most, and
    /// how many people are still unnamed. Hidden people are left out.
    public func people(_ scope: DashboardScope, limit: Int32) async throws -> PersonAnalysis {
        try await repository.people(scope, limit: try PageToken.pageSize(limit, field: "limit"))
    }

    /// Countries and cities, the share of photos with GPS, and map points in cells of
    /// `cellDegrees` (0.01–10, 0 → 0.5).
    public func locations(_ scope: DashboardScope, cellDegrees: Double) async throws -> LocationAnalysis {
        let cell = cellDegrees == 0 ? 0.5 : cellDegrees
        guard cell.isFinite, (0.01...10).contains(cell) else {
            throw APIError.invalid("cell_degrees", "must be between 0.01 and 10 (0 means 0.5)")
        }
        var analysis = LocationAnalysis()
        analysis.countries = try await PlaceAndDateGroups(database: database).countries(
            owner: scope.owner, countryCode: nil, covers: false, limit: 500, offset: 0)
        (analysis.gpsShare, analysis.points) = try await repository.mapPoints(scope, cellDegrees: cell)
        return analysis
    }
}
