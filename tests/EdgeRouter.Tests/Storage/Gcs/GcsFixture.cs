using System.Text.Json;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Gcs;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>One <see cref="FakeGcsServer"/> for all GCS tests, and storages.json entries that point at it.</summary>
public sealed class GcsFixture : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("edgerouter-gcs-").FullName;

    public FakeGcsServer Server { get; } = new();

    /// <summary>Where the bucket's objects are publicly readable, as https://storage.googleapis.com/BUCKET/ is.</summary>
    public string BucketUrl => $"{Server.Url}/{FakeGcsServer.Bucket}/";

    public string StorageJson(string id = "gcs", string read = "stream", int weight = 1, string? prefix = null, bool publicRead = true) => $$"""
        { "id": "{{id}}", "api": "gcs", "read": "{{read}}", "weight": {{weight}}, "storageUrl": "{{BucketUrl}}{{prefix}}",
          "bucket": "{{FakeGcsServer.Bucket}}", "credentialsJson": {{JsonSerializer.Serialize(Server.KeyJson)}}, "endpoint": "{{Server.Url}}",
          "publicRead": {{(publicRead ? "true" : "false")}}, "chunkSizeBytes": 1048576, "prefix": "{{prefix}}", "timeoutSeconds": 10,
          "cacheControl": "public, max-age=86400" }
        """;

    public IObjectStore CreateStore(string? prefix = null) => TestStores.Create(new GcsStorageProvider(), StorageJson(prefix: prefix), _root);

    public void Dispose()
    {
        Server.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class GcsGroup : ICollectionFixture<GcsFixture>
{
    public const string Name = "gcs";
}
