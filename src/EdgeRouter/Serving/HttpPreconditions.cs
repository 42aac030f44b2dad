using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Net.Http.Headers;

namespace EdgeRouter.Serving;

internal enum PreconditionOutcome
{
    /// <summary>200 with the whole object.</summary>
    Full,

    /// <summary>206 with <see cref="PreconditionResult.Range"/>.</summary>
    Partial,

    NotModified,

    PreconditionFailed,

    RangeNotSatisfiable,
}

internal readonly record struct PreconditionResult(PreconditionOutcome Outcome, long Offset = 0, long Length = 0);

/// <summary>
/// Conditional requests and byte ranges, evaluated in the order RFC 9110 §13.2.2 gives, from the catalog's ETag
/// and Last-Modified alone, so revalidations and bad ranges never reach the backend.
/// </summary>
internal static class HttpPreconditions
{
    public static PreconditionResult Evaluate(HttpRequest request, string etag, DateTimeOffset lastModified, long size)
    {
        var raw = request.Headers;
        if (raw.IfMatch.Count == 0 && raw.IfUnmodifiedSince.Count == 0 && raw.IfNoneMatch.Count == 0
            && raw.IfModifiedSince.Count == 0 && raw.Range.Count == 0)
        {
            return new PreconditionResult(PreconditionOutcome.Full);
        }

        var headers = request.GetTypedHeaders();
        var current = new EntityTagHeaderValue(etag);
        var modified = TruncateToSeconds(lastModified);
        var isGetOrHead = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);

        // 1-2. The client's update preconditions.
        if (raw.IfMatch.Count > 0)
        {
            if (!AnyMatches(headers.IfMatch, current, useStrongComparison: true))
            {
                return new PreconditionResult(PreconditionOutcome.PreconditionFailed);
            }
        }
        else if (headers.IfUnmodifiedSince is { } unmodifiedSince && modified > unmodifiedSince)
        {
            return new PreconditionResult(PreconditionOutcome.PreconditionFailed);
        }

        // 3-4. Revalidation.
        if (raw.IfNoneMatch.Count > 0)
        {
            if (AnyMatches(headers.IfNoneMatch, current, useStrongComparison: false))
            {
                return new PreconditionResult(isGetOrHead ? PreconditionOutcome.NotModified : PreconditionOutcome.PreconditionFailed);
            }
        }
        else if (isGetOrHead && headers.IfModifiedSince is { } modifiedSince && modified <= modifiedSince)
        {
            return new PreconditionResult(PreconditionOutcome.NotModified);
        }

        // 5. Range, only for GET and only if If-Range still holds.
        return HttpMethods.IsGet(request.Method) && raw.Range.Count > 0 && IfRangeHolds(headers, current, modified)
            ? EvaluateRange(headers.Range, size)
            : new PreconditionResult(PreconditionOutcome.Full);
    }

    private static PreconditionResult EvaluateRange(RangeHeaderValue? range, long size)
    {
        // An unparsable Range, another unit, or several ranges are answered with the whole object, as RFC 9110 allows.
        if (range is null || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
        {
            return new PreconditionResult(PreconditionOutcome.Full);
        }

        var item = range.Ranges.First();
        long start, end;
        if (item.From is { } from)
        {
            start = from;
            end = item.To is { } to ? Math.Min(to, size - 1) : size - 1;
        }
        else if (item.To is { } suffix and > 0)
        {
            start = Math.Max(0, size - suffix);
            end = size - 1;
        }
        else
        {
            return new PreconditionResult(PreconditionOutcome.RangeNotSatisfiable);
        }

        return start >= size || start > end
            ? new PreconditionResult(PreconditionOutcome.RangeNotSatisfiable)
            : new PreconditionResult(PreconditionOutcome.Partial, start, end - start + 1);
    }

    private static bool IfRangeHolds(RequestHeaders headers, EntityTagHeaderValue current, DateTimeOffset modified)
    {
        var ifRange = headers.IfRange;
        if (ifRange is null)
        {
            return true;
        }

        return ifRange.EntityTag is { } tag
            ? tag.Compare(current, useStrongComparison: true)
            : ifRange.LastModified == modified;
    }

    private static bool AnyMatches(IList<EntityTagHeaderValue> tags, EntityTagHeaderValue current, bool useStrongComparison)
    {
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison))
            {
                return true;
            }
        }

        return false;
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value)
        => new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), value.Offset);
}
