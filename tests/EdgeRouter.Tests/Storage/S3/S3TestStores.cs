using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Amazon.Runtime;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.S3;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>Builds S3-family stores from storages.json text, through the same providers a production config uses.</summary>
public static class S3TestStores
{
    public static IObjectStore Create(string api, string entryJson, int? routeAllConnectionsToPort = null)
    {
        var clientOptions = Options.Create(new S3ClientOptions { ConfigureClient = Routing(routeAllConnectionsToPort) });
        IStorageProvider provider = api switch
        {
            StorageProviders.S3 => new AmazonS3StorageProvider(clientOptions, TimeProvider.System),
            StorageProviders.S3Compatible => new S3CompatibleStorageProvider(clientOptions, TimeProvider.System),
            StorageProviders.Oss => new OssStorageProvider(clientOptions, TimeProvider.System),
            StorageProviders.B2 => new B2StorageProvider(clientOptions, TimeProvider.System),
            _ => throw new ArgumentOutOfRangeException(nameof(api)),
        };
        return TestStores.Create(provider, entryJson, Path.GetTempPath());
    }

    /// <summary>
    /// Sends every connection to one loopback port whatever the host name, so virtual-hosted requests
    /// (<c>bucket.s3.us-west-002.backblazeb2.com</c>) keep their real Host header and still reach the test server.
    /// </summary>
    public static Action<string, Amazon.S3.AmazonS3Config>? Routing(int? port)
        => port is null ? null : (_, config) => config.HttpClientFactory = new LoopbackHttpClientFactory(port.Value);

    private sealed class LoopbackHttpClientFactory(int port) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },

            // The request-shape tests answer TLS with WireMock's throwaway certificate, on loopback only.
#pragma warning disable CA5359
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
#pragma warning restore CA5359
        });
    }
}
