using System.Text.Json;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Gcs;
using WireMock;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>
/// The exact requests the <c>gcs</c> API sends, as Google documents them (JSON API v1), and how each documented
/// error answer surfaces.
/// </summary>
[Collection(GcsGroup.Name)]
public sealed class GcsRequestShapeTests(GcsFixture gcs)
{
    private readonly IObjectStore _store = gcs.CreateStore(prefix: "shape/");

    [Fact]
    public async Task Put_StartsAResumableSession_WithTheMetadataAndPreconditions_ThenSendsTheBytesWithContentRange()
    {
        var key = $"{Guid.NewGuid():N}/photo one.png";
        var callsBefore = gcs.Server.AuthorizedCalls;

        await _store.PutAsync(key, new MemoryStream(new byte[5000]), new ObjectWriteOptions("image/png", "public, max-age=77"), CancellationToken.None);

        var start = Single("POST", "/upload/storage/v1/b/edgerouter-gcs/o?", key);
        Assert.Equal("resumable", start.Query!["uploadType"].ToString());
        Assert.Equal("0", start.Query["ifGenerationMatch"].ToString());
        Assert.Equal("publicRead", start.Query["predefinedAcl"].ToString());
        using var metadata = JsonDocument.Parse(start.BodyAsBytes!);
        Assert.Equal("shape/" + key, metadata.RootElement.GetProperty("name").GetString());
        Assert.Equal("image/png", metadata.RootElement.GetProperty("contentType").GetString());
        Assert.Equal("public, max-age=77", metadata.RootElement.GetProperty("cacheControl").GetString());

        var chunk = Assert.Single(gcs.Server.Server.LogEntries, e => e.RequestMessage.Method == "PUT" && e.ResponseMessage.BodyData?.BodyAsBytes is { Length: > 0 } b
            && System.Text.Encoding.UTF8.GetString(b).Contains($"\"name\":\"shape/{key}\"", StringComparison.Ordinal)).RequestMessage;
        Assert.Contains("upload_id=", chunk.Url, StringComparison.Ordinal);
        Assert.Equal("bytes 0-4999/5000", chunk.Headers!["Content-Range"].ToString());
        Assert.True(gcs.Server.AuthorizedCalls >= callsBefore + 2, "each request carries the service account's signed JWT");
    }

    [Fact]
    public async Task ASmallBodyOfKnownLength_IsOneMultipartRequest_WithItsMd5ForTheServiceToCheck()
    {
        var key = $"{Guid.NewGuid():N}.png";
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3000);

        var stored = await _store.PutAsync(key, new MemoryStream(bytes), new ObjectWriteOptions("image/png", "public, max-age=5", Length: bytes.Length), CancellationToken.None);

        Assert.Equal(3000, stored.Size);
        var upload = Assert.Single(gcs.Server.Server.LogEntries, e => IsAbout(e.RequestMessage, key)).RequestMessage;
        Assert.Equal("POST", upload.Method);
        Assert.Equal("multipart", upload.Query!["uploadType"].ToString());
        Assert.Equal("0", upload.Query["ifGenerationMatch"].ToString());
        Assert.StartsWith("multipart/related; boundary=", upload.Headers!["Content-Type"].ToString(), StringComparison.Ordinal);
        var body = System.Text.Encoding.Latin1.GetString(upload.BodyAsBytes!);
        Assert.Contains($"\"md5Hash\":\"{Convert.ToBase64String(Md5(bytes))}\"", body, StringComparison.Ordinal);
        Assert.Contains("\"cacheControl\":\"public, max-age=5\"", body, StringComparison.Ordinal);
        Assert.True(gcs.Server.TryGet("shape/" + key, out var content, out var contentType, out _, out _));
        Assert.Equal(bytes, content);
        Assert.Equal("image/png", contentType);
    }

    [Fact]
    public async Task Put_WithOverwrite_SendsNoGenerationPrecondition()
    {
        var key = $"{Guid.NewGuid():N}.png";

        await _store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "no-cache", Overwrite: true), CancellationToken.None);

        Assert.False(Single("POST", "/upload/storage/v1/b/edgerouter-gcs/o?", key).Query!.ContainsKey("ifGenerationMatch"));
    }

    [Fact]
    public async Task RangedRead_IsAnAltMediaGet_OnTheEncodedObjectName_WithARangeHeader()
    {
        var key = $"{Guid.NewGuid():N}/a b.png";
        await _store.PutAsync(key, new MemoryStream(new byte[100]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);

        await using (var content = await _store.OpenReadAsync(key, new ByteRange(10, 10), CancellationToken.None))
        {
            Assert.Equal(10, content!.Length);
        }

        // The name is one path segment: its '/' travel as %2F (the server's log shows other escapes decoded).
        var path = $"/storage/v1/b/edgerouter-gcs/o/shape%2F{key.Replace("/", "%2F", StringComparison.Ordinal)}";
        var get = Assert.Single(gcs.Server.Server.LogEntries, e => e.RequestMessage.Method == "GET" && e.RequestMessage.Url.Contains(path + "?alt=media", StringComparison.Ordinal)).RequestMessage;
        Assert.Equal("bytes=10-19", get.Headers!["Range"].ToString());
    }

    [Fact]
    public async Task A401_IsAnsweredByANewlySignedToken_AndTheCallSucceeds()
    {
        var key = $"{Guid.NewGuid():N}.png";
        gcs.Server.FailNext(401, r => r.Method == "POST" && IsAbout(r, key));

        await _store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);

        Assert.Equal(2, gcs.Server.Server.LogEntries.Count(e => e.RequestMessage.Method == "POST" && IsAbout(e.RequestMessage, key)));
        Assert.True(gcs.Server.TryGet("shape/" + key, out _, out _, out _, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A403OnWrite_IsAStorageError_WithGooglesMessage_AndNoKeyMaterial(bool multipart)
    {
        var key = $"{Guid.NewGuid():N}.png";
        gcs.Server.FailNext(403, r => r.Method == "POST" && IsAbout(r, key));

        var error = await Assert.ThrowsAsync<StorageException>(() => _store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "no-cache", Length: multipart ? 10 : null), CancellationToken.None));

        Assert.Contains("403 Injected 403.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", error.ToString(), StringComparison.Ordinal);
        Assert.False(gcs.Server.TryGet("shape/" + key, out _, out _, out _, out _));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task ATransientErrorOnAnIdempotentCall_IsRetriedByTheClient(int status)
    {
        var key = $"{Guid.NewGuid():N}.png";
        await _store.PutAsync(key, new MemoryStream(new byte[42]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);
        gcs.Server.FailNext(status, r => r.Method == "GET" && r.Url.Contains(key, StringComparison.Ordinal));

        var stat = await _store.StatAsync(key, CancellationToken.None);

        Assert.Equal(42, stat!.Size);
        Assert.Equal(2, gcs.Server.Server.LogEntries.Count(e => e.RequestMessage.Method == "GET" && e.RequestMessage.Url.Contains(key, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AServerErrorOnRead_IsAStorageError_NotAMissingObject()
    {
        var key = $"{Guid.NewGuid():N}.png";
        await _store.PutAsync(key, new MemoryStream(new byte[42]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);
        gcs.Server.FailNext(503, r => r.Url.Contains("alt=media", StringComparison.Ordinal) && r.Url.Contains(key, StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<StorageException>(() => _store.OpenReadAsync(key, null, CancellationToken.None));

        Assert.Contains("503", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "endpoint": "http://127.0.0.1:1" }""", "field 'bucket': is required.")]
    [InlineData("""{ "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "bucket": "b" }""", "field 'credentialsJson': is required")]
    [InlineData("""{ "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "bucket": "b", "credentialsJson": "{ \"type\": \"authorized_user\", \"private_key\": \"SECRET-MATERIAL\" }" }""", "field 'credentialsJson': is not a service account key JSON")]
    [InlineData("""{ "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "bucket": "b", "credentialsJson": "keys/missing.json" }""", "keys/missing.json' does not exist.")]
    [InlineData("""{ "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "bucket": "b", "endpoint": "http://127.0.0.1:1", "chunkSizeBytes": 1000 }""", "field 'chunkSizeBytes': must be a positive multiple of 256 KiB.")]
    public void Validation_NamesTheStorageAndTheField_AndNeverEchoesTheKey(string entry, string expected)
    {
        var errors = new List<string>();
        var config = StorageConfigReader.Parse($$"""{ "storages": [ {{entry}} ] }""", "test", errors, _ => null)!.Storages[0];

        new GcsStorageProvider().Validate(config, new StorageValidationContext(0, config.Id, errors, Path.GetTempPath()));

        var error = Assert.Single(errors);
        Assert.StartsWith("storages[0] ('g'): ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-MATERIAL", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ACredentialsFile_IsReadRelativeToTheContentRoot()
    {
        var root = Directory.CreateTempSubdirectory("edgerouter-gcs-key-").FullName;
        File.WriteAllText(Path.Combine(root, "key.json"), gcs.Server.KeyJson);
        var errors = new List<string>();
        var config = StorageConfigReader.Parse("""{ "storages": [ { "id": "g", "api": "gcs", "read": "stream", "storageUrl": "https://storage.googleapis.com/b/", "bucket": "b", "credentialsJson": "key.json" } ] }""", "test", errors, _ => null)!.Storages[0];

        new GcsStorageProvider().Validate(config, new StorageValidationContext(0, config.Id, errors, root));

        Assert.Empty(errors);
        Directory.Delete(root, recursive: true);
    }

#pragma warning disable CA5351 // GCS's own object hash.
    private static byte[] Md5(byte[] data) => System.Security.Cryptography.MD5.HashData(data);
#pragma warning restore CA5351

    private static bool IsAbout(IRequestMessage request, string key)
        => request.BodyAsBytes is { } b && System.Text.Encoding.UTF8.GetString(b).Contains(key, StringComparison.Ordinal);

    private IRequestMessage Single(string method, string pathAndQueryStart, string key)
        => Assert.Single(gcs.Server.Server.LogEntries, e => e.RequestMessage.Method == method
            && e.RequestMessage.Url.Contains(pathAndQueryStart, StringComparison.Ordinal) && IsAbout(e.RequestMessage, key)).RequestMessage;
}
