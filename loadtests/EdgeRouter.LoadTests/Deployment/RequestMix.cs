using System.Globalization;

namespace EdgeRouter.LoadTests.Deployment;

public enum RequestKind
{
    /// <summary>A plain GET of a known key.</summary>
    Get,

    /// <summary>A HEAD of a known key.</summary>
    Head,

    /// <summary>A GET of part of a known key (<c>Range: bytes=…</c>), as a CDN or a video player asks.</summary>
    Range,

    /// <summary>A GET with <c>If-None-Match</c> the key's ETag, as a CDN revalidates; a GET while its ETag is not known yet.</summary>
    Revalidate,

    /// <summary>A GET of a key that does not exist (a 404 is the right answer).</summary>
    Unknown,
}

/// <summary>The share of each kind of request, e.g. <c>get=80,head=5,range=5,revalidate=5,unknown=5</c>.</summary>
public sealed class RequestMix
{
    public static readonly RequestMix GetOnly = new(new Dictionary<RequestKind, double> { [RequestKind.Get] = 1 });

    private readonly double[] _cumulative;

    private RequestMix(IReadOnlyDictionary<RequestKind, double> weights)
    {
        var total = weights.Values.Sum();
        Shares = Enum.GetValues<RequestKind>().ToDictionary(k => k, k => weights.GetValueOrDefault(k) / total);
        var sum = 0.0;
        _cumulative = [.. Enum.GetValues<RequestKind>().Select(k => sum += Shares[k])];
        _cumulative[^1] = 1.0;
    }

    /// <summary>Each kind's share, summing to 1.</summary>
    public IReadOnlyDictionary<RequestKind, double> Shares { get; }

    public static RequestMix Parse(string text)
    {
        var weights = new Dictionary<RequestKind, double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !Enum.TryParse<RequestKind>(pair[0], ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
            {
                throw new ArgumentException($"--mix: '{part}' is not KIND=WEIGHT with KIND get, head, range, revalidate or unknown.");
            }

            if (!double.TryParse(pair[1].TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || weight < 0)
            {
                throw new ArgumentException($"--mix: '{pair[1]}' is not a weight (a number, 0 or more) for {pair[0]}.");
            }

            weights[kind] = weight;
        }

        return weights.Values.Sum() > 0 ? new RequestMix(weights) : throw new ArgumentException($"--mix: '{text}' gives no request kind a weight above 0.");
    }

    /// <summary>The kind for a uniform draw <paramref name="u"/> in [0, 1).</summary>
    public RequestKind Pick(double u)
    {
        for (var i = 0; i < _cumulative.Length; i++)
        {
            if (u < _cumulative[i])
            {
                return (RequestKind)i;
            }
        }

        return (RequestKind)(_cumulative.Length - 1);
    }

    public override string ToString()
        => string.Join(",", Shares.Where(s => s.Value > 0).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key.ToString().ToLowerInvariant()}={s.Value * 100:0.##}")));
}
