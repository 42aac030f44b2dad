using System.Diagnostics;
using System.Net;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace EdgeRouter.Serving;

/// <summary>
/// The one pooled client and request settings that <c>proxy</c> reads use with YARP's <see cref="IHttpForwarder"/>.
/// The client never follows redirects or holds cookies, so a backend cannot steer it elsewhere.
/// </summary>
internal sealed class StorageForwarding : IDisposable
{
    public StorageForwarding(IOptions<EdgeRouterOptions> options, Cdn.CacheTags tags)
    {
        Transformer = new StorageTransformer(tags);
        var serving = options.Value.Serving;
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = serving.ProxyConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        });
        RequestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = serving.ProxyActivityTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    /// <summary>
    /// What every object answer the router makes itself carries: a page smuggled into storage (an HTML or SVG file a
    /// backend types by its name) can run no script and load nothing under the site's origin.
    /// </summary>
    public const string ContentSecurityPolicy = "default-src 'none'; sandbox";

    /// <summary>Where a proxy read leaves its <see cref="ProxiedObject"/> (<see cref="HttpContext.Items"/>) for the response.</summary>
    public static readonly object ProxiedObjectKey = new();

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig RequestConfig { get; }

    public HttpTransformer Transformer { get; }

    public void Dispose() => Invoker.Dispose();

    /// <summary>
    /// Sends the request to exactly the mapped URL (passed as the destination prefix) without the client's query,
    /// credentials or cookies, keeps a backend's 5xx out of every cache, and quotes a bare ETag.
    /// </summary>
    private sealed class StorageTransformer(Cdn.CacheTags tags) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = new Uri(destinationPrefix, UriKind.Absolute);
            proxyRequest.Headers.Host = null;
            proxyRequest.Headers.Authorization = null;
            proxyRequest.Headers.Remove(Uploads.ApiKeys.HeaderName);
            proxyRequest.Headers.Remove("Cookie");
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            httpContext.Response.Headers.Remove("Set-Cookie");

            if (httpContext.Items[ProxiedObjectKey] is ProxiedObject proxied && proxyResponse?.StatusCode is HttpStatusCode.OK or HttpStatusCode.PartialContent or HttpStatusCode.NotModified)
            {
                // A whole object whose length is not its record's was changed outside the router: a 200 under the
                // record's version would be cached for a year. Nothing of it is sent.
                if (proxyResponse is { StatusCode: HttpStatusCode.OK, Content.Headers.ContentLength: { } length } && length != proxied.Record.Size)
                {
                    httpContext.Response.Clear();
                    httpContext.Response.Headers.CacheControl = "no-store";
                    await Uploads.Problems.WriteAsync(httpContext, StatusCodes.Status502BadGateway, "Bad Gateway", "The storage that holds this object could not serve it.");
                    return false;
                }

                // The object is what the catalog says it is, whatever the backend types it as (by its name, say).
                var headers = httpContext.Response.Headers;
                if (proxyResponse.StatusCode != HttpStatusCode.NotModified)
                {
                    headers.ContentType = proxied.Record.ContentType;
                }

                headers.XContentTypeOptions = "nosniff";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.CacheControl = proxied.CacheControl;
                tags.ApplyLifetimes(headers);
            }

            // Some backends (OpenStack Swift) answer a bare MD5 as the ETag; HTTP wants it quoted, and caches and
            // clients that parse strictly would otherwise drop it and never revalidate.
            if (httpContext.Response.Headers.ETag is [{ Length: > 0 } etag] && etag[0] != '"' && !etag.StartsWith("W/", StringComparison.Ordinal))
            {
                httpContext.Response.Headers.ETag = $"\"{etag}\"";
            }

            if (proxyResponse is null || (int)proxyResponse.StatusCode >= 500)
            {
                httpContext.Response.Headers.CacheControl = "no-store";
            }

            return proceed;
        }
    }
}

/// <summary>The object a proxy read forwards, and the Cache-Control its storage gives it.</summary>
internal sealed record ProxiedObject(Catalog.ObjectRecord Record, string CacheControl);
