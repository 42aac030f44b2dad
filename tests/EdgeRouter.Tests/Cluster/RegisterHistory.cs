namespace EdgeRouter.Tests.Cluster;

/// <summary>One operation on one key as a client saw it: when it began and ended, and what it answered.</summary>
/// <param name="Value">A write's or read's version (its ETag), or null for a delete or a read that found nothing.</param>
/// <param name="Acknowledged">
/// For a write or delete: the router answered it as done. One whose answer never came (a killed router, a reset)
/// may or may not have happened, at any time after it began.
/// </param>
public sealed record RegisterOperation(string Key, bool IsRead, string? Value, TimeSpan Start, TimeSpan End, bool Acknowledged);

/// <summary>
/// A checker in the style of Knossos and Porcupine for a register per key, reduced to what the router promises: a
/// read may return any version whose write could still be the latest, and no version that a later write (or
/// delete) had replaced before the read began, except within the invalidation window. A write x is later than the
/// write w of the returned version when x began after w was acknowledged; x replaced it before the read if x was
/// acknowledged more than the window before the read began. A read also may not return a version no write had begun.
/// </summary>
public static class RegisterHistory
{
    /// <summary>Every read that breaks the promise, with why.</summary>
    /// <param name="window">How long after a change a read may still see what it replaced (it may depend on when the read began).</param>
    public static IReadOnlyList<string> StaleReads(IReadOnlyList<RegisterOperation> history, Func<TimeSpan, TimeSpan> window)
    {
        var violations = new List<string>();
        foreach (var key in history.GroupBy(o => o.Key))
        {
            var changes = key.Where(o => !o.IsRead).ToList();
            foreach (var read in key.Where(o => o.IsRead))
            {
                var settled = read.Start - window(read.Start);

                // The writes that could have produced what the read returned: for "nothing", a delete or the key's
                // state before its first write.
                var sources = changes.Where(c => c.Value == read.Value && c.Start <= read.End).ToList();
                if (read.Value is null)
                {
                    sources.Add(new RegisterOperation(read.Key, false, null, TimeSpan.MinValue, TimeSpan.MinValue, true));
                }
                else if (sources.Count == 0)
                {
                    violations.Add($"{read.Key}: a read at {read.Start.TotalMilliseconds:0} ms returned {read.Value}, which no write had begun");
                    continue;
                }

                // Stale when every possible source was replaced, before the read began, by a change that began after it ended.
                var stale = sources.All(source => changes.Any(later =>
                    later.Acknowledged && source.Acknowledged && later.Start > source.End && later.End < settled && later.Value != read.Value));
                if (stale)
                {
                    var replaced = sources.Select(s => changes.Where(l => l.Acknowledged && s.Acknowledged && l.Start > s.End && l.End < settled).MaxBy(l => l.End)!).MaxBy(l => l.End)!;
                    violations.Add($"{read.Key}: a read at {read.Start.TotalMilliseconds:0}-{read.End.TotalMilliseconds:0} ms returned {read.Value ?? "nothing"}, replaced by {replaced.Value ?? "a delete"} acknowledged at {replaced.End.TotalMilliseconds:0} ms");
                }
            }
        }

        return violations;
    }
}
