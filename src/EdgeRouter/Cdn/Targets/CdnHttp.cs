using System.Net;
using System.Text;

namespace EdgeRouter.Cdn.Targets;

/// <summary>How every target reads an API's answer: 2xx sent; 408, 429 and 5xx retried (after <c>Retry-After</c> when given); the rest failed.</summary>
internal static class CdnHttp
{
    private const int AnswerExcerpt = 300;

    public static async Task<PurgeResult> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken, Func<string, bool>? acceptsBody = null)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            return new PurgeResult(PurgeOutcome.Retry, $"No answer from {request.RequestUri!.Host}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PurgeResult(PurgeOutcome.Retry, $"No answer from {request.RequestUri!.Host} in time.");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            var answer = $"HTTP {status}: {Excerpt(body)}";
            if (response.IsSuccessStatusCode)
            {
                return acceptsBody is null || acceptsBody(body) ? new PurgeResult(PurgeOutcome.Sent) : new PurgeResult(PurgeOutcome.Failed, answer);
            }

            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || status >= 500)
            {
                return new PurgeResult(PurgeOutcome.Retry, answer, RetryAfter(response));
            }

            return new PurgeResult(PurgeOutcome.Failed, answer);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }

    private static string Excerpt(string body)
    {
        var flat = new StringBuilder(Math.Min(body.Length, AnswerExcerpt));
        foreach (var c in body.AsSpan(0, Math.Min(body.Length, AnswerExcerpt)))
        {
            flat.Append(char.IsControl(c) ? ' ' : c);
        }

        return body.Length > AnswerExcerpt ? flat.Append('…').ToString() : flat.ToString();
    }
}
