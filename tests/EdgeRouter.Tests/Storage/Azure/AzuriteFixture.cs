using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Azure;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Azure;

/// <summary>
/// Azurite (npm, blob service only) on loopback, started once for all Azure tests, with a container whose blobs
/// are publicly readable, so the mapped Storage URL resolves for redirect and proxy reads.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string Account = "devstoreaccount1";

    // Azurite's documented, well-known development key.
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    public const string Container = "edgerouter";

    private readonly string _data = Directory.CreateTempSubdirectory("edgerouter-azurite-").FullName;
    private ServerProcess? _server;

    public int Port { get; } = ServerProcess.FreePort();

    public string Endpoint => $"http://127.0.0.1:{Port}/{Account}";

    public string ContainerUrl => $"{Endpoint}/{Container}/";

    public string ConnectionString => $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint={Endpoint};";

    public async Task InitializeAsync()
    {
        await StartAsync();
        var container = new BlobContainerClient(ConnectionString, Container);
        await container.CreateIfNotExistsAsync(PublicAccessType.Blob);
    }

    public async Task StartAsync()
    {
        // --skipApiVersionCheck: Azure.Storage.Blobs 12.30 sends a newer API version than Azurite 3.37 knows.
        _server = new ServerProcess("azurite", Path.Combine(Repository.Root, "tests", "servers", "node_modules", ".bin", "azurite-blob"),
            ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--location", _data, "--silent", "--skipApiVersionCheck", "--loose"],
            Port);
        await _server.StartAsync();
    }

    /// <summary>Stops Azurite for sure: its first SIGTERM sometimes leaves it running, so the tree is killed after a grace period.</summary>
    public Task StopAsync() => _server?.StopAsync() ?? Task.CompletedTask;

    public string StorageJson(string id = "azure", string read = "stream", int weight = 1) => $$"""
        { "id": "{{id}}", "api": "azure", "read": "{{read}}", "weight": {{weight}}, "storageUrl": "{{ContainerUrl}}",
          "accountName": "{{Account}}", "accountKey": "{{Key}}", "endpoint": "{{Endpoint}}", "container": "{{Container}}",
          "blockSizeBytes": 4194304, "presignedExpirySeconds": 120, "cacheControl": "public, max-age=86400" }
        """;

    public IObjectStore CreateStore(string? prefix = null)
    {
        var json = StorageJson().Replace("\"blockSizeBytes\"", prefix is null ? "\"blockSizeBytes\"" : $"\"prefix\": \"{prefix}\", \"blockSizeBytes\"", StringComparison.Ordinal);
        return TestStores.Create(new AzureBlobStorageProvider(TimeProvider.System), json, _data);
    }

    public BlobContainerClient DirectContainer() => new(ConnectionString, Container);

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_data, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteGroup : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
