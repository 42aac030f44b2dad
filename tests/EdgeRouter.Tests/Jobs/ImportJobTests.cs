using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>Adopting a folder another tool filled: every valid object is served under its key, the rest reported.</summary>
public sealed class ImportJobTests : IDisposable
{
    private readonly RouterFactory _router = JobsTestRouter.Create("""
        { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
        { "id": "legacy", "api": "local", "root": "data/legacy", "read": "stream", "weight": 0 }
        """);

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task Import_AdoptsAThousandObjects_ServesThemUnderTheirKeys_ReportsTheRefused_AndRecordsNothingTheSecondTime()
    {
        var legacy = Path.Combine(_router.Root, "data", "legacy");
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 1_000; i++)
        {
            var key = $"2019/{i % 7:D2}/photo-{i}.{(i % 2 == 0 ? "png" : "jpg")}";
            objects[key] = i % 2 == 0 ? TestFiles.Png(200 + i) : TestFiles.Jpeg(300 + i);
        }

        foreach (var (key, bytes) in objects)
        {
            Write(legacy, key, bytes);
        }

        // Keys that break the rules, and content an upload would be refused.
        Write(legacy, "2019/trailing./x.png", TestFiles.Png());
        Write(legacy, "2019/page.html", Encoding.UTF8.GetBytes("<html><script>alert(1)</script></html>"));
        Write(legacy, "2019/disguised.html", TestFiles.Png());
        Write(legacy, "2019/notes.txt", Encoding.UTF8.GetBytes("plain text"));
        Write(legacy, "elsewhere/outside-the-prefix.png", TestFiles.Png());
        Write(legacy, "2019/.er-0123456789abcdef.tmp", TestFiles.Png());
        using var admin = JobsTestRouter.AdminClient(_router);

        var job = await JobsTestRouter.RunAsync(admin, """{ "kind": "import", "storage": "legacy", "prefix": "2019/" }""");

        Assert.Equal(1_000, JobsTestRouter.Count(job, "imported"));
        Assert.Equal(1_004, (long)job["total"]!);
        Assert.Equal(1_004, (long)job["processed"]!);
        Assert.Equal(objects.Values.Sum(b => (long)b.Length), (long)job["bytes"]!);
        Assert.Equal(
            ["2019/disguised.html", "2019/notes.txt", "2019/page.html", "2019/trailing./x.png"],
            JobsTestRouter.Listed(job, "refused", "key").Order(StringComparer.Ordinal));
        using var client = _router.CreateAnonymousClient();
        foreach (var (key, bytes) in objects.Where((_, i) => i % 50 == 0))
        {
            using var response = await client.GetAsync("/" + key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{TestFiles.Sha256(bytes)}\"", response.Headers.ETag!.Tag);
            Assert.Equal(key.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "image/jpeg", response.Content.Headers.ContentType!.MediaType);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/2019/page.html")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/elsewhere/outside-the-prefix.png")).StatusCode);

        var again = await JobsTestRouter.RunAsync(admin, """{ "kind": "import", "storage": "legacy", "prefix": "2019/" }""");

        Assert.Equal(0, JobsTestRouter.Count(again, "imported"));
        Assert.Equal(1_000, JobsTestRouter.Count(again, "known"));
        var storages = await admin.GetStringAsync("/admin/api/storages");
        Assert.Contains("\"objects\":1000", storages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportWithoutHash_RecordsAPendingHash_ThatTheFirstWholeStreamAMigrationAndADeepVerifyEachSettle()
    {
        var legacy = Path.Combine(_router.Root, "data", "legacy");
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            var key = $"2020/{(i < 10 ? "a" : "b")}/photo-{i}.png";
            objects[key] = TestFiles.Png(4_000 + i);
            Write(legacy, key, objects[key]);
        }

        using var admin = JobsTestRouter.AdminClient(_router);
        using var client = _router.CreateAnonymousClient();

        var job = await JobsTestRouter.RunAsync(admin, """{ "kind": "import", "storage": "legacy", "prefix": "2020/", "hash": false }""");

        Assert.Equal("succeeded", (string?)job["state"]);
        Assert.Equal(20, JobsTestRouter.Count(job, "imported"));
        var listed = JsonNode.Parse(await admin.GetStringAsync("/admin/api/objects?prefix=2020/&limit=100"))!["items"]!.AsArray();
        Assert.Equal(20, listed.Count);
        Assert.All(listed, o => Assert.Null((string?)o!["sha256"]));

        // Until it is hashed an object has a strong ETag of its own, which validators and ranges honour.
        const string streamed = "2020/a/photo-0.png";
        using (var partial = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/" + streamed) { Headers = { Range = new(0, 99) } }))
        {
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(objects[streamed][..100], await partial.Content.ReadAsByteArrayAsync());
            Assert.StartsWith("\"u-", partial.Headers.ETag!.Tag, StringComparison.Ordinal);
        }

        var pendingTag = (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + streamed))).Headers.ETag!.Tag;
        Assert.StartsWith("\"u-", pendingTag, StringComparison.Ordinal);
        using (var revalidation = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/" + streamed) { Headers = { { "If-None-Match", pendingTag } } }))
        {
            Assert.Equal(HttpStatusCode.NotModified, revalidation.StatusCode);
        }

        using (var whole = await client.GetAsync("/" + streamed))
        {
            Assert.Equal(objects[streamed], await whole.Content.ReadAsByteArrayAsync());
            Assert.Equal(pendingTag, whole.Headers.ETag!.Tag);
        }

        using (var after = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + streamed)))
        {
            Assert.Equal($"\"{TestFiles.Sha256(objects[streamed])}\"", after.Headers.ETag!.Tag);
        }

        // A migration checks the copy against what it read from the source, and leaves the hash to be recorded later.
        var migrate = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "legacy", "to": "main", "prefix": "2020/b/" }""");
        Assert.Equal(10, JobsTestRouter.Count(migrate, "moved"));

        var verify = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "deep": true }""");

        Assert.Equal(19, JobsTestRouter.Count(verify, "hashed"));
        Assert.Empty(JobsTestRouter.Listed(verify, "hashMismatches", "key"));
        foreach (var (key, bytes) in objects)
        {
            using var response = await client.GetAsync("/" + key);
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{TestFiles.Sha256(bytes)}\"", response.Headers.ETag!.Tag);
        }

        var again = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "deep": true }""");
        Assert.Equal(0, JobsTestRouter.Count(again, "hashed"));
    }

    [Theory]
    [InlineData("""{ "kind": "import" }""", "'storage' must name a storage.")]
    [InlineData("""{ "kind": "import", "storage": "nope" }""", "'storage': there is no storage 'nope' (known: legacy, main).")]
    [InlineData("""{ "kind": "import", "storage": "legacy", "prefix": "../" }""", "'prefix': The prefix must not contain a '..' segment.")]
    [InlineData("""{ "kind": "import", "storage": "legacy", "objectsPerSecond": 0 }""", "'objectsPerSecond' must be a number above 0.")]
    [InlineData("""{ "kind": "teleport" }""", "'kind' must be one of: import, migrate, drain, rebalance, verify.")]
    [InlineData("""{ "kind": "migrate", "from": "main", "to": "main" }""", "'from' and 'to' are the same storage.")]
    public async Task ABadSpec_Gets400_WithAPreciseMessage_AndNoJob(string spec, string message)
    {
        using var admin = JobsTestRouter.AdminClient(_router);

        using var response = await admin.PostAsync("/admin/api/jobs", new StringContent(spec, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("[]", await admin.GetStringAsync("/admin/api/jobs"));
    }

    [Fact]
    public async Task TheJobsApi_NeedsTheAdminKey()
    {
        using var anonymous = _router.CreateAnonymousClient();

        using var response = await anonymous.PostAsync("/admin/api/jobs", new StringContent("""{ "kind": "verify" }""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/api/jobs")).StatusCode);
    }

    private static void Write(string root, string key, byte[] bytes)
    {
        var path = Path.Combine(root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}
