using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace EdgeRouter.Jobs;

/// <summary>
/// What a running job sees: its spec, where to resume, its cancellation, and the counts and report it keeps. Safe to
/// use from the job's parallel workers.
/// </summary>
public sealed class JobContext : IDisposable
{
    /// <summary>Items kept in each list of the report (errors, refused keys, orphans…); the counts go on past it.</summary>
    public const int MaxListedItems = 200;

    private readonly Lock _lock = new();
    private readonly JsonObject _report;
    private readonly SemaphoreSlim _saving = new(1, 1);
    private readonly TimeProvider _timeProvider;
    private readonly double? _objectsPerSecond;
    private readonly double? _bytesPerSecond;
    private readonly long _paceStarted;
    private long _processed;
    private long _bytes;
    private long _errors;
    private long _pacedObjects;
    private long _pacedBytes;
    private long? _total;

    internal JobContext(JobRecord job, JsonObject spec, int parallelism, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Id = job.Id;
        Spec = spec;
        Parallelism = parallelism;
        CancellationToken = cancellationToken;
        _timeProvider = timeProvider;
        Checkpoint = job.Progress.Checkpoint;
        _processed = job.Progress.Processed;
        _bytes = job.Progress.Bytes;
        _errors = job.Progress.Errors;
        _total = job.Progress.Total;
        _report = job.Progress.Report is { } saved && JsonNode.Parse(saved) is JsonObject report ? report : [];
        _objectsPerSecond = JobSpec.Rate(spec, JobSpec.ObjectsPerSecond);
        _bytesPerSecond = JobSpec.Rate(spec, JobSpec.BytesPerSecond);
        _paceStarted = timeProvider.GetTimestamp();
    }

    public string Id { get; }

    public JsonObject Spec { get; }

    /// <summary>Where the job resumes: the last key or location it finished, in order; null at the start.</summary>
    public string? Checkpoint { get; private set; }

    public int Parallelism { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Saves the progress and renews the lease (set by the runner).</summary>
    internal Func<JobProgress, Task>? Save { get; set; }

    public JobProgress Progress
    {
        get
        {
            lock (_lock)
            {
                return new JobProgress(Interlocked.Read(ref _processed), _total, Interlocked.Read(ref _bytes), Interlocked.Read(ref _errors), Checkpoint, _report.ToJsonString());
            }
        }
    }

    public void SetTotal(long total)
    {
        lock (_lock)
        {
            _total = total;
        }
    }

    /// <summary>One object done (whatever the outcome), with the bytes it moved or read.</summary>
    public void Processed(long bytes = 0)
    {
        Interlocked.Increment(ref _processed);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Adds one to the report's count <paramref name="name"/> (<c>imported</c>, <c>skipped</c>…).</summary>
    public void Count(string name, long by = 1)
    {
        lock (_lock)
        {
            _report[name] = ((long?)_report[name] ?? 0) + by;
        }
    }

    /// <summary>Counts <paramref name="list"/> and keeps <paramref name="item"/> in it, up to <see cref="MaxListedItems"/>.</summary>
    public void Note(string list, JsonObject item)
    {
        lock (_lock)
        {
            var countName = list + "Count";
            _report[countName] = ((long?)_report[countName] ?? 0) + 1;
            if (_report[list] is not JsonArray items)
            {
                _report[list] = items = [];
            }

            if (items.Count < MaxListedItems)
            {
                items.Add(item);
            }
        }
    }

    /// <summary>Sets a field of the report (a plan, a summary).</summary>
    public void Set(string name, JsonNode? value)
    {
        lock (_lock)
        {
            _report[name] = value;
        }
    }

    /// <summary>An object the job could not handle: counted in <c>errors</c> and listed in the report.</summary>
    public void Error(string item, string message)
    {
        Interlocked.Increment(ref _errors);
        Note("errors", new JsonObject { ["item"] = item, ["message"] = message });
    }

    /// <summary>Everything up to and including <paramref name="checkpoint"/> is done: saved now, so a restart resumes after it.</summary>
    public async Task CheckpointAsync(string checkpoint)
    {
        lock (_lock)
        {
            Checkpoint = checkpoint;
        }

        await SaveAsync();
    }

    internal async Task SaveAsync()
    {
        if (Save is null)
        {
            return;
        }

        // One save at a time, so an older progress never lands after a newer one.
        await _saving.WaitAsync(CancellationToken.None);
        try
        {
            await Save(Progress);
        }
        finally
        {
            _saving.Release();
        }
    }

    /// <summary>Waits as long as the spec's <c>objectsPerSecond</c> and <c>bytesPerSecond</c> require after one more object of <paramref name="bytes"/>.</summary>
    public async ValueTask PaceAsync(long bytes)
    {
        var objects = Interlocked.Increment(ref _pacedObjects);
        var total = Interlocked.Add(ref _pacedBytes, bytes);
        var due = Math.Max(_objectsPerSecond is { } ops ? objects / ops : 0, _bytesPerSecond is { } bps ? total / bps : 0);
        var ahead = TimeSpan.FromSeconds(due) - _timeProvider.GetElapsedTime(_paceStarted);
        if (ahead > TimeSpan.Zero)
        {
            await Task.Delay(ahead, _timeProvider, CancellationToken);
        }
    }

    public void Dispose() => _saving.Dispose();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"job {Id}: {Interlocked.Read(ref _processed)} processed");
}

/// <summary>Fields every job's spec may have, and how they are read.</summary>
public static class JobSpec
{
    public const string ObjectsPerSecond = "objectsPerSecond";
    public const string BytesPerSecond = "bytesPerSecond";

    public static string? Text(JsonObject spec, string name) => spec[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool Flag(JsonObject spec, string name, bool fallback = false) => spec[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;

    public static double? Rate(JsonObject spec, string name) => spec[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>The problems of the fields every spec shares (rates, the prefix), for a job's <see cref="IJob.Validate"/>.</summary>
    public static List<string> CommonProblems(JsonObject spec)
    {
        var problems = new List<string>();
        foreach (var name in new[] { ObjectsPerSecond, BytesPerSecond })
        {
            if (spec[name] is { } value && (value is not JsonValue v || !v.TryGetValue<double>(out var rate) || rate <= 0))
            {
                problems.Add($"'{name}' must be a number above 0.");
            }
        }

        foreach (var name in new[] { "dryRun", "hash", "deep", "repair" })
        {
            if (spec[name] is { } value && (value is not JsonValue v || !v.TryGetValue<bool>(out _)))
            {
                problems.Add($"'{name}' must be true or false.");
            }
        }

        if (spec["prefix"] is not null)
        {
            if (Text(spec, "prefix") is not { } prefix)
            {
                problems.Add("'prefix' must be a string.");
            }
            else if (Storage.ObjectKeys.ValidatePrefix(prefix) is { } error)
            {
                problems.Add($"'prefix': {error}");
            }
        }

        return problems;
    }

    /// <summary>The storage as configured now (looked up each time: a reload of storages.json builds new stores).</summary>
    public static Storage.StorageDefinition StorageOf(Storage.IStorageRegistry registry, string id)
        => registry.Current.ById.GetValueOrDefault(id) ?? throw new InvalidOperationException($"Storage '{id}' is no longer configured.");

    /// <summary>A problem when <paramref name="name"/> does not name a configured storage, else null.</summary>
    public static string? StorageProblem(JsonObject spec, string name, Storage.StorageSnapshot storages)
        => Text(spec, name) is not { Length: > 0 } id ? $"'{name}' must name a storage."
            : storages.ById.ContainsKey(id) ? null
            : $"'{name}': there is no storage '{id}' (known: {string.Join(", ", storages.ById.Keys.Order(StringComparer.Ordinal))}).";
}
