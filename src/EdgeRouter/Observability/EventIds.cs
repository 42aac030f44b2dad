namespace EdgeRouter.Observability;

/// <summary>Every log event id of the router, in one place so none is used twice.</summary>
internal static class EventIds
{
    public const int StoragesLoaded = 1;
    public const int StoragesReloaded = 2;
    public const int StoragesReloadRejected = 3;
    public const int StoragesReloadFailed = 4;
    public const int StoragesOwnerNotKept = 5;

    public const int UploadStored = 100;
    public const int UploadWriteFailed = 101;
    public const int UploadRejected = 102;
    public const int CatalogCommitFailed = 103;
    public const int OrphanCleanupFailed = 104;
    public const int PendingDeleteFailed = 105;
    public const int PendingDeleteStorageGone = 106;
    public const int ObjectDeleted = 107;
    public const int JanitorRemovedObject = 108;
    public const int JanitorRemovedUpload = 109;
    public const int JanitorRemovedSpool = 110;
    public const int JanitorFailed = 111;
    public const int CatalogConnectionBudget = 112;

    public const int ReadBackendFailed = 200;
    public const int ReadObjectMissing = 201;
    public const int ProxyFailed = 202;
    public const int ReadStorageUnknown = 203;
    public const int ReadFailed = 204;
    public const int ReadSizeMismatch = 205;
    public const int OriginCacheFillFailed = 206;
    public const int OriginCacheDiskEntryCorrupt = 207;
    public const int OriginCacheDiskWriteFailed = 208;

    public const int StorageUnhealthy = 300;
    public const int StorageRecovered = 301;

    public const int AnonymousUploads = 400;

    public const int ClusterDegraded = 500;
    public const int ClusterRecovered = 501;
    public const int ClusterPublishFailed = 502;
    public const int ClusterPublishError = 503;
    public const int ClusterSubscribeDeferred = 504;

    public const int JobStarted = 600;
    public const int JobFinished = 601;
    public const int JobFailed = 602;
    public const int JobLost = 603;
    public const int JobStoreUnavailable = 604;
    public const int ObjectAdopted = 605;
    public const int ReadHashNotRecorded = 606;

    public const int PurgeRetry = 700;
    public const int PurgeDead = 701;
    public const int PurgeOutboxUnavailable = 702;

    public const int ResumableSwept = 800;
    public const int ResumableSweepFailed = 801;
}
