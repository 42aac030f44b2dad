using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.S3;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>
/// An S3 server that decodes aws-chunked bodies (npm fauxqs), for the <c>s3</c> API, whose uploads are aws-chunked
/// with a trailing checksum as Amazon S3 takes them, which s3rver stores undecoded. It sits behind a TLS front on
/// loopback, so the <c>s3</c> storage talks HTTPS to <c>bucket.s3.region.amazonaws.com</c> exactly as in production
/// (every connection routed here; fauxqs reads the bucket from the Host). fauxqs checks neither signatures nor
/// checksums: the request-shape tests assert those against AWS's documentation, and the front records each request's
/// headers so the contract tests can see what went up.
/// </summary>
public sealed class FauxqsFixture : IAsyncLifetime
{
    public const string Bucket = "photos";
    public const string Region = "eu-west-1";
    public const string VirtualHost = $"{Bucket}.s3.{Region}.amazonaws.com";

    private readonly string _init = Path.Combine(Path.GetTempPath(), $"edgerouter-fauxqs-{Guid.NewGuid():N}.json");
    private readonly HttpMessageInvoker _forwarding = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false });
    private ServerProcess? _server;
    private readonly X509Certificate2 _certificate = TestCertificates.SelfSigned($"*.s3.{Region}.amazonaws.com");
    private WebApplication? _front;

    /// <summary>fauxqs itself, plain HTTP, for reading what landed without going through the router's client.</summary>
    public int Port { get; } = ServerProcess.FreePort();

    /// <summary>The TLS front the <c>s3</c> storage connects to.</summary>
    public int TlsPort { get; private set; }

    /// <summary>The method, path, Host and headers of every request that passed the front.</summary>
    public ConcurrentQueue<(string Method, string Path, IReadOnlyDictionary<string, string> Headers)> Requests { get; } = new();

    /// <summary>An <c>s3</c> storages.json entry for <see cref="Bucket"/> (5 MiB parts, so the 20 MB contract case is multipart).</summary>
    public static string StorageJson(string prefix, string bucket = Bucket) => $$"""
        { "id": "aws", "api": "s3", "read": "stream", "bucket": "{{bucket}}", "region": "{{Region}}", "prefix": "{{prefix}}",
          "accessKey": "AKIDEXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "partSizeBytes": 5242880 }
        """;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_init, $$"""{ "buckets": ["{{Bucket}}"] }""");
        var bin = Path.Combine(Repository.Root, "tests", "servers", "node_modules", ".bin", "fauxqs");
        _server = new ServerProcess("fauxqs", bin, [], Port, environment: new Dictionary<string, string>
        {
            ["FAUXQS_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FAUXQS_INIT"] = _init,
            ["FAUXQS_LOGGER"] = "false",
        });
        await _server.StartAsync();
        await StartFrontAsync();
    }

    private async Task StartFrontAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(_certificate));
        });
        builder.Logging.ClearProviders();
        builder.Services.AddHttpForwarder();
        _front = builder.Build();
        var backend = $"http://127.0.0.1:{Port}/";
        _front.Run(async context =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            Requests.Enqueue((context.Request.Method, context.Request.Path.Value ?? string.Empty, headers));
            var error = await context.RequestServices.GetRequiredService<IHttpForwarder>().SendAsync(context, backend, _forwarding, ForwarderRequestConfig.Empty, KeepHost.Instance);
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
            }
        });
        await _front.StartAsync();
        TlsPort = new Uri(_front.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
    }

    /// <summary>A client that reads the bucket straight from fauxqs, to check what landed there.</summary>
    public AmazonS3Client CreateDirectClient() => new(
        new BasicAWSCredentials("AKIDEXAMPLE", "direct"),
        new AmazonS3Config
        {
            ServiceURL = $"http://127.0.0.1:{Port}",
            ForcePathStyle = true,
            AuthenticationRegion = Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public async Task DisposeAsync()
    {
        if (_front is not null)
        {
            await _front.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _forwarding.Dispose();
        _certificate.Dispose();
        File.Delete(_init);
    }

    /// <summary>Forwards the request as it came, Host included: fauxqs takes the bucket from it.</summary>
    private sealed class KeepHost : HttpTransformer
    {
        public static readonly KeepHost Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FauxqsGroup : ICollectionFixture<FauxqsFixture>
{
    public const string Name = "fauxqs";
}
