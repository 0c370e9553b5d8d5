import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCServices
import Logging
import ServiceLifecycle

/// Every gRPC service of photovault-api, wired to one database and configuration.
///
/// Shared by the executable and the tests, so tests exercise exactly what ships.
public struct APIServices: Sendable {
    public let accounts: Accounts
    public let administration: Administration
    public let authenticator: Authenticator
    public let health = HealthStatusBoard()
    /// The images domain and the sealed blobs under it.
    public let library: ImageLibrary
    public let vault: BlobVault
    /// This replica's WatchImages streams.
    public let hub: ImageWatchHub
    /// Wakes this replica's job workers.
    public let wake = WakeSignal()
    public let jobs: JobQueue
    /// The inference servers, health-checked; shared by analysis jobs, search and captioning.
    public let inference: InferenceClient
    public let search: ImageSearch
    public let captioning: Captioning
    let indexes: VectorIndexes
    let analysis: AnalysisRepository
    /// Albums and browsing by place and date.
    public let albums: AlbumLibrary
    public let people: PeopleLibrary
    public let clusterer: FaceClusterer
    /// Events, their images and share links.
    public let events: EventLibrary
    /// Library figures for the dashboard.
    public let dashboard: Dashboard
    /// Reverse geocoding.
    public let places: PlaceDirectory
    let config: APIConfig
    let logger: Logger

    /// The fully-qualified names of the PhotoVault services served.
    public static let serviceNames = [
        "photovault.v1.AuthService", "photovault.v1.AdminService", "photovault.v1.ImageService",
        "photovault.v1.SearchService", "photovault.v1.AlbumService", "photovault.v1.PeopleService",
        "photovault.v1.EventService", "photovault.v1.DashboardService",
    ]

    public init(
        database: Database, config: APIConfig, signingKeys: SigningKeys, mailer: any Mailer,
        masterKeys: MasterKeys, blobStore: any BlobStore, staging: StagingArea, logger: Logger
    ) async throws {
        let issuer = await TokenIssuer(keys: signingKeys, lifetime: config.accessTokenLifetime)
        let authenticator = Authenticator(issuer: issuer, database: database, cacheLifetime: config.authCacheLifetime)
        let hasher = PasswordHasher(parameters: config.argon2)
        self.authenticator = authenticator
        self.accounts = Accounts(
            database: database, hasher: hasher, issuer: issuer, mailer: mailer, config: config,
            authenticator: authenticator, logger: logger)
        let dataKeys = DataKeys(database: database, master: masterKeys)
        self.administration = Administration(database: database, authenticator: authenticator, dataKeys: dataKeys, logger: logger)
        self.vault = BlobVault(store: blobStore, keys: dataKeys, staging: staging, database: database, logger: logger)
        self.library = ImageLibrary(database: database, vault: vault, limits: config.imageLimits, logger: logger)
        self.hub = ImageWatchHub()
        self.jobs = JobQueue(database: database)
        let inference = try InferenceClient(settings: config.inference, logger: logger)
        self.inference = inference
        self.indexes = VectorIndexes(database: database)
        self.analysis = AnalysisRepository(database: database, indexes: indexes)
        self.search = ImageSearch(
            database: database, images: ImageRepository(database: database),
            vectors: VectorSearch(database: database, settings: config.search), inference: inference, settings: config.search,
            logger: logger)
        self.captioning = Captioning(
            database: database, repository: analysis, vault: vault, inference: inference,
            visionChat: config.visionChat.map { VisionChatCaptioner(settings: $0, httpClient: VisionChatCaptioner.processClient) }, logger: logger)
        self.albums = AlbumLibrary(database: database, logger: logger)
        self.people = PeopleLibrary(database: database, settings: config.clustering, logger: logger)
        self.clusterer = FaceClusterer(database: database, settings: config.clustering, logger: logger)
        self.events = EventLibrary(
            database: database, images: library, search: search, hasher: hasher, limits: config.limits, logger: logger)
        self.dashboard = Dashboard(database: database)
        self.places = PlaceDirectory(database: database, logger: logger)
        self.config = config
        self.logger = logger
    }

    /// The handlers, in the order of DESIGN §2.
    public var handlers: [any RegistrableRPCService] {
        [
            AuthServiceHandler(accounts: accounts, authenticator: authenticator),
            AdminServiceHandler(administration: administration, authenticator: authenticator),
            ImageServiceHandler(library: library, authenticator: authenticator, hub: hub, captioning: captioning, events: events),
            SearchServiceHandler(search: search, authenticator: authenticator, events: events),
            AlbumServiceHandler(albums: albums, authenticator: authenticator),
            PeopleServiceHandler(people: people, authenticator: authenticator), EventServiceHandler(events: events, authenticator: authenticator),
            DashboardServiceHandler(dashboard: dashboard, authenticator: authenticator),
        ]
    }

    /// The background services this replica runs beside the gRPC server: NOTIFY listeners,
    /// job workers and housekeeping. (``hub`` is a service too: it goes after the server in a
    /// service group, so that it shuts down first and ends the watch streams the server waits for.)
    public func backgroundServices(database: Database) -> [any Service] {
        let hub = self.hub, wake = self.wake, authenticator = self.authenticator
        // One listener for every channel: revocations keep this replica's session cache in step,
        // job announcements wake the workers, image changes feed the watch streams.
        let notifications = NotificationListener(
            database: database,
            handlers: [
                Authenticator.channel: { authenticator.forgetLocally($0) },
                JobQueue.wakeChannel: { _ in wake.signal() },
                ImageStages.channel: { hub.deliver($0) },
            ],
            logger: logger, onConnect: { wake.signal() })
        let workers = JobWorkers(
            queue: jobs,
            handlers: [
                DerivativesJob(database: database, vault: vault, logger: logger),
                AnalyzeJob(repository: analysis, vault: vault, inference: inference, tagPolicy: config.tagPolicy, logger: logger),
                TextIndexJob(database: database, indexes: indexes, inference: inference, logger: logger),
                DuplicatesJob(database: database, logger: logger),
                ReindexJob(database: database, logger: logger),
                PurgeJob(database: database, vault: vault, limits: config.imageLimits, logger: logger),
                ClusterFacesJob(kind: Pipeline.clusterFaces, clusterer: clusterer, logger: logger),
                ClusterFacesJob(kind: Pipeline.reclusterFaces, clusterer: clusterer, logger: logger),
            ],
            count: config.workers, signal: wake, logger: logger)
        // Analysis that waited for the inference service resumes as soon as a server is back, and
        // vectors of a model no longer served are re-made.
        let jobs = self.jobs, logger = self.logger
        let reindexing = Reindexing(database: database, logger: logger)
        inference.onAvailable {
            do { try await jobs.resumeWaiting(kinds: Pipeline.needsInference) } catch {
                logger.warning("could not resume waiting analysis jobs", metadata: ["error": "\(error)"])
            }
        }
        inference.onModelsChanged { models in
            do { try await reindexing.modelsSeen(models) } catch {
                logger.warning("could not record the served models", metadata: ["error": "\(error)"])
            }
        }
        let placesFile = PlaceDirectory.locateFile(
            explicit: config.placesFile, projectRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let placeLoader: [any Service] = config.backgroundPlaceLookups ? [PlaceLoader(directory: places, file: placesFile, logger: logger)] : []
        return [notifications, inference, workers, Housekeeping(database: database, logger: logger)] + placeLoader
    }

    /// A server for these services on `host:port` (port 0 picks a free one).
    public func makeServer(host: String, port: Int) throws -> GRPCServer<HTTP2ServerTransport.Posix> {
        GRPCServerService.make(
            host: host, port: port, services: handlers, servedNames: Self.serviceNames, health: health,
            descriptors: try DescriptorIndex.photoVault(), logger: logger,
            tls: config.tlsCertificate.flatMap { certificate in
                config.tlsKey.map { GRPCServerService.TLSFiles(certificateChain: certificate, privateKey: $0) }
            },
            mapError: DatabaseErrors.rpcError(for:))
    }
}
