using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>
/// WireMock.Net playing the documented Google Cloud Storage JSON API, since no GCS emulator
/// runs here. It keeps what is uploaded, so the contract suite reads back what it wrote, and it refuses what the
/// real service refuses: requests without a JWT signed by the service account's key, resumable chunks that do not continue the
/// session, V4 signed URLs whose signature does not verify against the service account's public key.
/// </summary>
public sealed class FakeGcsServer : IDisposable
{
    public const string Bucket = "edgerouter-gcs";
    public const string ClientEmail = "edgerouter@edgerouter-test.iam.gserviceaccount.com";

    private const string SetHeaderPrefix = "X-Fake-Set-";

    private const int ListPageSize = 3;

    private readonly ConcurrentDictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(Func<IRequestMessage, bool> Match, int Status)> _faults = new();
    private readonly RSA _key = RSA.Create(2048);
    private long _generation = 1_700_000_000_000_000;
    private int _authorizedCalls;

    public FakeGcsServer()
    {
        Server = WireMockServer.Start(new WireMockServerSettings
        {
            // WireMock drops response headers named Range (which a resumable session's 308 carries) and Content-Length
            // (which GCS sends, also on HEAD); the fake sends them under a prefix that this middleware strips.
            PreWireMockMiddlewareInit = app => ((IApplicationBuilder)app).Use(async (context, next) =>
            {
                context.Response.OnStarting(() =>
                {
                    foreach (var name in context.Response.Headers.Keys.Where(k => k.StartsWith(SetHeaderPrefix, StringComparison.Ordinal)).ToList())
                    {
                        context.Response.Headers.Remove(name, out var value);
                        context.Response.Headers[name[SetHeaderPrefix.Length..]] = value;
                    }

                    return Task.CompletedTask;
                });
                await next();
            }),
        });
        Server.Given(Request.Create().WithPath("/*")).RespondWith(Response.Create().WithCallback(Handle));
        KeyJson = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "edgerouter-test",
            ["private_key_id"] = "0123456789abcdef",
            ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = ClientEmail,
            ["client_id"] = "1234567890",
            ["token_uri"] = $"{Url}/token",
        }.ToJsonString();
    }

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    /// <summary>A service account key whose <c>token_uri</c> is this server.</summary>
    public string KeyJson { get; }

    /// <summary>Requests that carried a valid service account JWT.</summary>
    public int AuthorizedCalls => Volatile.Read(ref _authorizedCalls);

    /// <summary>While set, every request is answered 503, as during a service outage.</summary>
    public bool Unavailable { get; set; }

    /// <summary>The next request that <paramref name="match"/> accepts is answered with <paramref name="status"/> and Google's error body.</summary>
    public void FailNext(int status, Func<IRequestMessage, bool> match) => _faults.Enqueue((match, status));

    public bool TryGet(string name, out byte[] content, out string? contentType, out string? cacheControl, out string? acl)
    {
        var found = _objects.TryGetValue(name, out var o);
        (content, contentType, cacheControl, acl) = found ? (o!.Content, o.ContentType, o.CacheControl, o.Acl) : ([], null, null, null);
        return found;
    }

    public IEnumerable<string> Names => _objects.Keys;

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
        _key.Dispose();
    }

    private ResponseMessage Handle(IRequestMessage request)
    {
        var path = RawPath(request);
        if (Unavailable)
        {
            return Error(503, "Service Unavailable (injected outage).");
        }

        if (!path.StartsWith("/storage/v1/", StringComparison.Ordinal) && !path.StartsWith("/upload/storage/v1/", StringComparison.Ordinal))
        {
            return PathStyleRead(request);
        }

        if (!IsAuthorized(Header(request, "Authorization")))
        {
            return Error(401, "Anonymous caller does not have storage.objects.get access.");
        }

        if (_faults.TryPeek(out var fault) && fault.Match(request) && _faults.TryDequeue(out _))
        {
            return Error(fault.Status, $"Injected {fault.Status}.");
        }

        var segments = path.Split('/');
        return (request.Method, segments) switch
        {
            ("POST", [_, "upload", "storage", "v1", "b", var b, "o"]) when Query(request, "uploadType") == "resumable" => StartUpload(request, b),
            ("POST", [_, "upload", "storage", "v1", "b", var b, "o"]) when Query(request, "uploadType") == "multipart" => MultipartUpload(request, b),
            ("PUT", [_, "upload", "storage", "v1", "b", _, "o"]) => ContinueUpload(request),
            ("GET", [_, "storage", "v1", "b", _, "o"]) => List(request),
            ("GET", [_, "storage", "v1", "b", _, "o", var n]) when Query(request, "alt") == "media" => Download(request, Uri.UnescapeDataString(n)),
            ("GET", [_, "storage", "v1", "b", _, "o", var n]) => Metadata(Uri.UnescapeDataString(n)),
            ("DELETE", [_, "storage", "v1", "b", _, "o", var n]) => Delete(Uri.UnescapeDataString(n)),
            _ => Error(400, $"The fake does not serve {request.Method} {path}."),
        };
    }

    /// <summary>
    /// A service account calls with a self-signed JWT (https://developers.google.com/identity/protocols/oauth2/service-account#jwt-auth):
    /// signed by its key, issued by its email, for a Cloud Storage scope, not expired.
    /// </summary>
    private bool IsAuthorized(string? authorization)
    {
        if (authorization?.StartsWith("Bearer ", StringComparison.Ordinal) != true || authorization[7..].Split('.') is not [var header, var payload, var signature])
        {
            return false;
        }

        var claims = JsonNode.Parse(Base64Url(payload))!;
        var signed = _key.VerifyData(Encoding.ASCII.GetBytes($"{header}.{payload}"), Base64Url(signature), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var accepted = signed && (string?)claims["iss"] == ClientEmail
            && ((string?)claims["scope"] ?? string.Empty).StartsWith("https://www.googleapis.com/auth/devstorage.", StringComparison.Ordinal)
            && DateTimeOffset.FromUnixTimeSeconds((long)claims["exp"]!) > DateTimeOffset.UtcNow;
        if (accepted)
        {
            Interlocked.Increment(ref _authorizedCalls);
        }

        return accepted;
    }

    /// <summary>
    /// https://cloud.google.com/storage/docs/json_api/v1/objects/list: names in lexicographic order, from
    /// <c>startOffset</c> (inclusive) and under <c>prefix</c>; a page may hold fewer than <c>maxResults</c>, and this
    /// one holds at most <see cref="ListPageSize"/>, so a listing of a few objects already needs the page token.
    /// </summary>
    private ResponseMessage List(IRequestMessage request)
    {
        var prefix = Query(request, "prefix") ?? string.Empty;
        var from = Query(request, "pageToken") ?? Query(request, "startOffset") ?? string.Empty;
        var names = _objects.Keys
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(n, from) >= 0)
            .Order(StringComparer.Ordinal)
            .Take(Math.Min(ListPageSize, int.TryParse(Query(request, "maxResults"), CultureInfo.InvariantCulture, out var max) ? max : 1000) + 1)
            .ToList();
        var page = new JsonObject { ["kind"] = "storage#objects" };
        var items = names.Take(ListPageSize).Where(n => _objects.ContainsKey(n)).Select(n => (JsonNode)Resource(n, _objects[n])).ToArray();
        if (items.Length > 0)
        {
            page["items"] = new JsonArray(items);
        }

        if (names.Count > ListPageSize)
        {
            page["nextPageToken"] = names[ListPageSize];
        }

        return Json(200, page);
    }

    private ResponseMessage StartUpload(IRequestMessage request, string bucket)
    {
        // https://cloud.google.com/storage/docs/performing-resumable-uploads: metadata in the body, name in it or the query.
        var metadata = request.BodyAsBytes is { Length: > 0 } body ? JsonNode.Parse(body)!.AsObject() : [];
        var name = (string?)metadata["name"] ?? Query(request, "name");
        if (bucket != Bucket || string.IsNullOrEmpty(name))
        {
            return Error(bucket != Bucket ? 404 : 400, bucket != Bucket ? "The specified bucket does not exist." : "Required object name.");
        }

        if (Query(request, "ifGenerationMatch") == "0" && _objects.ContainsKey(name))
        {
            return Error(412, "At least one of the pre-conditions you specified did not hold.");
        }

        var id = Guid.NewGuid().ToString("N");
        _sessions[id] = new UploadSession(name, (string?)metadata["contentType"], (string?)metadata["cacheControl"], Query(request, "ifGenerationMatch"), Query(request, "predefinedAcl"));
        return Respond(200, [], ("Location", $"{Url}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={id}"));
    }

    /// <summary>
    /// https://cloud.google.com/storage/docs/uploading-objects#uploading-an-object (multipart/related: the JSON
    /// metadata, then the bytes). An <c>md5Hash</c> in the metadata is checked against the bytes, as the service does.
    /// </summary>
    private ResponseMessage MultipartUpload(IRequestMessage request, string bucket)
    {
        var contentType = Header(request, "Content-Type") ?? string.Empty;
        var boundary = contentType.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("boundary=", StringComparison.Ordinal))?["boundary=".Length..].Trim('"');
        if (!contentType.StartsWith("multipart/related", StringComparison.Ordinal) || boundary is null)
        {
            return Error(400, "uploadType=multipart needs a multipart/related body.");
        }

        var parts = SplitMultipart(request.BodyAsBytes ?? [], boundary);
        if (parts is not [var (_, metadataBytes), var (mediaHeaders, media)])
        {
            return Error(400, $"Expected 2 parts (metadata, media), got {parts.Count}.");
        }

        var metadata = JsonNode.Parse(metadataBytes)!.AsObject();
        if ((string?)metadata["md5Hash"] is { } md5 && md5 != Convert.ToBase64String(Md5(media)))
        {
            return Error(400, "Provided MD5 hash does not match calculated MD5 hash.");
        }

        var mediaType = mediaHeaders.GetValueOrDefault("content-type");
        return Store(bucket, (string?)metadata["name"], media, (string?)metadata["contentType"] ?? mediaType, (string?)metadata["cacheControl"], request);
    }

    private ResponseMessage Store(string bucket, string? name, byte[] content, string? contentType, string? cacheControl, IRequestMessage request)
    {
        if (bucket != Bucket || string.IsNullOrEmpty(name))
        {
            return Error(bucket != Bucket ? 404 : 400, bucket != Bucket ? "The specified bucket does not exist." : "Required object name.");
        }

        if (Query(request, "ifGenerationMatch") == "0" && _objects.ContainsKey(name))
        {
            return Error(412, "At least one of the pre-conditions you specified did not hold.");
        }

        var stored = new StoredObject(content, contentType ?? "application/octet-stream", cacheControl, Interlocked.Increment(ref _generation), DateTimeOffset.UtcNow, Query(request, "predefinedAcl"));
        _objects[name] = stored;
        return Json(200, Resource(name, stored));
    }

    private static List<(Dictionary<string, string> Headers, byte[] Body)> SplitMultipart(byte[] body, string boundary)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<(Dictionary<string, string>, byte[])>();
        var span = body.AsSpan();
        var start = span.IndexOf(delimiter);
        while (start >= 0)
        {
            var after = start + delimiter.Length;
            if (span[after..].StartsWith("--"u8))
            {
                break;
            }

            var next = span[after..].IndexOf(delimiter);
            if (next < 0)
            {
                break;
            }

            // A part: CRLF, headers, CRLF CRLF, bytes, CRLF before the next delimiter.
            var part = span.Slice(after + 2, next - 4);
            var split = part.IndexOf("\r\n\r\n"u8);
            var headers = Encoding.ASCII.GetString(part[..split]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
                .Select(h => h.Split(':', 2)).ToDictionary(h => h[0].Trim().ToLowerInvariant(), h => h[1].Trim());
            parts.Add((headers, part[(split + 4)..].ToArray()));
            start = after + next;
        }

        return parts;
    }

    private ResponseMessage ContinueUpload(IRequestMessage request)
    {
        if (Query(request, "upload_id") is not { } id || !_sessions.TryGetValue(id, out var session))
        {
            return Error(404, "No such upload session.");
        }

        // Content-Range: "bytes FIRST-LAST/TOTAL", "bytes FIRST-LAST/*" (more to come) or "bytes */TOTAL" (finalise, or ask for status).
        var range = Header(request, "Content-Range") ?? string.Empty;
        var body = request.BodyAsBytes ?? [];
        var spec = range.StartsWith("bytes ", StringComparison.Ordinal) ? range[6..] : null;
        var slash = spec?.IndexOf('/') ?? -1;
        if (spec is null || slash < 0)
        {
            return Error(400, $"Bad Content-Range '{range}'.");
        }

        var total = spec[(slash + 1)..] is "*" ? (long?)null : long.Parse(spec[(slash + 1)..], CultureInfo.InvariantCulture);
        if (spec[..slash] != "*")
        {
            var bounds = spec[..slash].Split('-');
            var first = long.Parse(bounds[0], CultureInfo.InvariantCulture);
            var last = long.Parse(bounds[1], CultureInfo.InvariantCulture);
            if (first != session.Received.Length || last - first + 1 != body.Length)
            {
                return Error(400, $"Chunk {first}-{last} does not continue the {session.Received.Length} bytes received.");
            }

            session.Received.Write(body);
        }

        if (total is null || session.Received.Length < total)
        {
            // 308 "Resume Incomplete", with the bytes persisted so far.
            return session.Received.Length == 0 ? Respond(308, []) : Respond(308, [], (SetHeaderPrefix + "Range", $"bytes=0-{session.Received.Length - 1}"));
        }

        _sessions.TryRemove(id, out _);
        if (session.IfGenerationMatch == "0" && _objects.ContainsKey(session.Name))
        {
            return Error(412, "At least one of the pre-conditions you specified did not hold.");
        }

        var stored = new StoredObject(session.Received.ToArray(), session.ContentType ?? "application/octet-stream", session.CacheControl,
            Interlocked.Increment(ref _generation), DateTimeOffset.UtcNow, session.Acl);
        _objects[session.Name] = stored;
        return Json(200, Resource(session.Name, stored));
    }

    private ResponseMessage Download(IRequestMessage request, string name)
    {
        if (!_objects.TryGetValue(name, out var o))
        {
            return Error(404, "No such object: " + Bucket + "/" + name);
        }

        return Media(o, request);
    }

    private ResponseMessage Metadata(string name)
        => _objects.TryGetValue(name, out var o) ? Json(200, Resource(name, o)) : Error(404, "No such object: " + Bucket + "/" + name);

    private ResponseMessage Delete(string name)
        => _objects.TryRemove(name, out _) ? Respond(204, []) : Error(404, "No such object: " + Bucket + "/" + name);

    /// <summary>
    /// The public URL https://storage.googleapis.com/BUCKET/OBJECT: readable when the object is <c>publicRead</c>, or
    /// with a V4 signature (https://cloud.google.com/storage/docs/access-control/signing-urls-manually).
    /// </summary>
    private ResponseMessage PathStyleRead(IRequestMessage request)
    {
        var path = RawPath(request);
        var slash = path.IndexOf('/', 1);
        var name = slash < 0 ? string.Empty : Uri.UnescapeDataString(path[(slash + 1)..]);
        if (slash < 0 || path[1..slash] != Bucket)
        {
            return Error(404, "NoSuchBucket");
        }

        var raw = request.RawQuery?.TrimStart('?') ?? string.Empty;
        var pairs = raw.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => (Name: p[..p.IndexOf('=')], Value: p[(p.IndexOf('=') + 1)..])).ToList();
        if (pairs.Count == 0)
        {
            return !_objects.TryGetValue(name, out var o) ? Error(404, "NoSuchKey")
                : o.Acl == "publicRead" ? Media(o, request) : Error(403, "AccessDenied");
        }

        string? Param(string n) => pairs.Where(p => p.Name == n).Select(p => Uri.UnescapeDataString(p.Value)).FirstOrDefault();
        if (Param("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" || Param("X-Goog-Signature") is not { } signature || Param("X-Goog-Date") is not { } date
            || Param("X-Goog-Credential") is not { } credential || !credential.StartsWith(ClientEmail + "/", StringComparison.Ordinal))
        {
            return Error(403, "Missing or unexpected signing parameters.");
        }

        var canonicalQuery = string.Join('&', pairs.Where(p => p.Name != "X-Goog-Signature").OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value}"));
        // The SDK signs the host name without a port: right for the real service on 443, so the fake drops its port too.
        var host = Header(request, "Host")!.Split(':')[0];
        var canonicalRequest = $"GET\n{path}\n{canonicalQuery}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD";
        var scope = credential[(ClientEmail.Length + 1)..];
        var stringToSign = $"GOOG4-RSA-SHA256\n{date}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var issued = DateTimeOffset.ParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        if (!_key.VerifyData(Encoding.UTF8.GetBytes(stringToSign), Convert.FromHexString(signature), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            || issued.AddSeconds(long.Parse(Param("X-Goog-Expires") ?? "0", CultureInfo.InvariantCulture)) < DateTimeOffset.UtcNow)
        {
            return Error(403, "SignatureDoesNotMatch");
        }

        return _objects.TryGetValue(name, out var signed) ? Media(signed, request) : Error(404, "NoSuchKey");
    }

    private static ResponseMessage Media(StoredObject o, IRequestMessage request)
    {
        var etag = $"\"{Convert.ToHexStringLower(Md5(o.Content))}\"";
        var headers = new List<(string, string)>
        {
            ("Content-Type", o.ContentType),
            ("ETag", etag),
            ("Last-Modified", o.Updated.ToString("R", CultureInfo.InvariantCulture)),
            ("x-goog-generation", o.Generation.ToString(CultureInfo.InvariantCulture)),
            ("x-goog-stored-content-length", o.Content.Length.ToString(CultureInfo.InvariantCulture)),
        };
        if (o.CacheControl is { } cacheControl)
        {
            headers.Add(("Cache-Control", cacheControl));
        }

        if (Header(request, "If-None-Match") == etag)
        {
            return Respond(304, [], [.. headers]);
        }

        var range = Header(request, "Range");
        if (range is null)
        {
            headers.Add((SetHeaderPrefix + "Content-Length", o.Content.Length.ToString(CultureInfo.InvariantCulture)));
            return Respond(200, o.Content, [.. headers]);
        }

        // Only what the router sends: one "bytes=FIRST-LAST" range.
        var bounds = range["bytes=".Length..].Split('-');
        var first = long.Parse(bounds[0], CultureInfo.InvariantCulture);
        var last = Math.Min(long.Parse(bounds[1], CultureInfo.InvariantCulture), o.Content.Length - 1);
        if (first >= o.Content.Length)
        {
            return Error(416, "The requested range cannot be satisfied.");
        }

        headers.Add(("Content-Range", $"bytes {first}-{last}/{o.Content.Length}"));
        headers.Add((SetHeaderPrefix + "Content-Length", (last - first + 1).ToString(CultureInfo.InvariantCulture)));
        return Respond(206, o.Content[(int)first..(int)(last + 1)], [.. headers]);
    }

    private static JsonObject Resource(string name, StoredObject o) => new()
    {
        ["kind"] = "storage#object",
        ["id"] = $"{Bucket}/{name}/{o.Generation}",
        ["name"] = name,
        ["bucket"] = Bucket,
        ["generation"] = o.Generation.ToString(CultureInfo.InvariantCulture),
        ["metageneration"] = "1",
        ["contentType"] = o.ContentType,
        ["cacheControl"] = o.CacheControl,
        ["size"] = o.Content.Length.ToString(CultureInfo.InvariantCulture),
        ["md5Hash"] = Convert.ToBase64String(Md5(o.Content)),
        ["crc32c"] = Convert.ToBase64String(Crc32c.Hash(o.Content)),
        ["etag"] = "CJ" + o.Generation.ToString(CultureInfo.InvariantCulture)[^6..],
        ["timeCreated"] = o.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["updated"] = o.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };

    // GCS reports MD5 as its object hash and in its ETags; it is the service's format, not a security choice.
#pragma warning disable CA5351
    private static byte[] Md5(byte[] content) => MD5.HashData(content);
#pragma warning restore CA5351

    /// <summary>The path as sent, still percent-encoded: an object name's '/' travels as %2F in the JSON API.</summary>
    private static string RawPath(IRequestMessage request)
    {
        var url = request.Url;
        var start = url.IndexOf('/', url.IndexOf("//", StringComparison.Ordinal) + 2);
        var end = url.IndexOf('?', start);
        return end < 0 ? url[start..] : url[start..end];
    }

    private static string? Query(IRequestMessage request, string name)
        => request.Query?.TryGetValue(name, out var values) == true ? values.FirstOrDefault() : null;

    private static string? Header(IRequestMessage request, string name)
        => request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    private static byte[] Base64Url(string s) => Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));

    private static ResponseMessage Error(int status, string message)
        => Json(status, new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = ((HttpStatusCode)status).ToString() }) } });

    private static ResponseMessage Json(int status, JsonNode body)
        => Respond(status, Encoding.UTF8.GetBytes(body.ToJsonString()), ("Content-Type", "application/json; charset=UTF-8"));

    private static ResponseMessage Respond(int status, byte[] body, params (string Name, string Value)[] headers) => new()
    {
        StatusCode = status,
        Headers = headers.ToDictionary(h => h.Name, h => new WireMockList<string>(h.Value)),
        BodyData = new BodyData { BodyAsBytes = body, DetectedBodyType = BodyType.Bytes },
    };

    private sealed record StoredObject(byte[] Content, string ContentType, string? CacheControl, long Generation, DateTimeOffset Updated, string? Acl);

    private sealed record UploadSession(string Name, string? ContentType, string? CacheControl, string? IfGenerationMatch, string? Acl)
    {
        public MemoryStream Received { get; } = new();
    }

    /// <summary>CRC-32C (Castagnoli), which GCS reports big-endian in base64.</summary>
    private static class Crc32c
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
        {
            var c = (uint)i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            }

            return c;
        }).ToArray();

        public static byte[] Hash(byte[] data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            crc ^= 0xFFFFFFFF;
            return [(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc];
        }
    }
}
