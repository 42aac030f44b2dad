using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace EdgeRouter.Configuration;

/// <summary>storages.json could not be loaded at start; <see cref="Exception.Message"/> lists every problem.</summary>
public sealed class StorageConfigurationException : Exception
{
    public StorageConfigurationException(string path, IReadOnlyList<string> problems)
        : base($"{path} is invalid:{Environment.NewLine} - {string.Join(Environment.NewLine + " - ", problems)}")
    {
        Problems = problems;
    }

    public StorageConfigurationException()
    {
        Problems = [];
    }

    public StorageConfigurationException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public StorageConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; }
}

/// <summary>
/// Gets a storage's entry of storages.json (null when there is none; a copy, free to change) and returns its new
/// entry (null removes the storage), or adds to <paramref name="problems"/> to refuse the edit.
/// </summary>
internal delegate JsonObject? StorageEntryChange(JsonObject? current, List<string> problems);

/// <summary>
/// Owns the storages in force. The first load throws with every problem, so the host does not start on a bad
/// file; a reload that fails validation is logged and the previous storages stay in force (as YARP's
/// ProxyConfigManager does). Stores whose entry did not change are kept across reloads.
/// </summary>
internal sealed partial class StorageConfigManager : IStorageRegistry, IDisposable
{
    private static readonly TimeSpan ReloadDebounce = TimeSpan.FromMilliseconds(300);
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private readonly EdgeRouterMetrics _metrics;
    private long _fileChanges;

    private readonly string _path;
    private readonly StorageConfigValidator _validator;
    private readonly FrozenDictionary<string, IStorageProvider> _providers;
    private readonly StorageProviderContext _providerContext;
    private readonly EdgeRouterOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<StorageConfigManager> _logger;
    private readonly PhysicalFileProvider _fileProvider;
    private readonly IDisposable _watch;
    private readonly Lock _reloadLock = new();
    private Dictionary<string, (string Json, IObjectStore Store)> _stores = new(StringComparer.Ordinal);
    private StorageSnapshot _current;
    private long _version;

    public StorageConfigManager(
        IOptions<EdgeRouterOptions> options,
        IEnumerable<IStorageProvider> providers,
        StorageConfigValidator validator,
        IHostEnvironment environment,
        IServiceProvider services,
        TimeProvider timeProvider,
        EdgeRouterMetrics metrics,
        ILogger<StorageConfigManager> logger)
    {
        _metrics = metrics;
        _options = options.Value;
        _path = Path.GetFullPath(_options.StoragesFile, environment.ContentRootPath);
        _validator = validator;
        _providers = StorageProviders.ToLookup(providers);
        _providerContext = new StorageProviderContext(environment.ContentRootPath, services);
        _timeProvider = timeProvider;
        _logger = logger;

        if (TryBuild(out var snapshot) is { Count: > 0 } errors)
        {
            throw new StorageConfigurationException(_path, errors);
        }

        _current = snapshot!;
        Log.Loaded(_logger, _path, _current.Storages.Count);

        _fileProvider = new PhysicalFileProvider(Path.GetDirectoryName(_path)!) { UsePollingFileWatcher = false };
        _watch = ChangeToken.OnChange(() => _fileProvider.Watch(Path.GetFileName(_path)), OnFileChanged);
    }

    public StorageSnapshot Current => Volatile.Read(ref _current);

    public IReadOnlyList<string> Reload()
    {
        lock (_reloadLock)
        {
            var errors = TryBuild(out var snapshot);
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    Log.ReloadRejected(_logger, _path, error);
                }

                _metrics.ConfigReloaded(inForce: false);
                return errors;
            }

            Volatile.Write(ref _current, snapshot!);
            _metrics.ConfigReloaded(inForce: true);
            Log.Reloaded(_logger, _path, snapshot!.Storages.Count, snapshot.Version);
            return [];
        }
    }

    /// <summary>
    /// Adds, changes or removes one storage in storages.json, for the admin. The edited file is validated exactly as
    /// a hand edit is, written atomically with the previous version kept beside it (<c>.bak</c>), and applied at
    /// once, so the file stays the single source of truth. Comments in the file are not kept.
    /// </summary>
    /// <returns>The problems; none when the change is in force.</returns>
    public IReadOnlyList<string> EditStorage(string id, StorageEntryChange change)
    {
        lock (_reloadLock)
        {
            var errors = new List<string>();
            if (Edited(id, change, errors, out _) is not { } json)
            {
                return errors;
            }

            if (GetReadOnlyReason() is { } readOnly)
            {
                return [readOnly];
            }

            var temporary = _path + ".tmp";
            try
            {
                File.WriteAllText(temporary, json);
                File.Copy(_path, _path + ".bak", overwrite: true);
                if (!OperatingSystem.IsWindows())
                {
                    // The file holds secrets: the edited file and its .bak keep the mode and owner the operator gave
                    // it (0600, say), not the ones new files get.
                    var mode = File.GetUnixFileMode(_path);
                    File.SetUnixFileMode(temporary, mode);
                    File.SetUnixFileMode(_path + ".bak", mode);
                    if (!FileOwner.Copy(_path, temporary) | !FileOwner.Copy(_path, _path + ".bak"))
                    {
                        Log.OwnerNotKept(_logger, _path);
                    }
                }

                File.Move(temporary, _path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A read-only folder or mount can pass the check above: the write itself is what fails.
                File.Delete(temporary);
                return [ReadOnlyMessage];
            }

            return Reload();
        }
    }

    /// <summary>
    /// The storage as <paramref name="change"/> would leave it, validated with the rest of the file as a saved edit
    /// is, with a store of its own (the caller disposes it), and nothing written: what "test connection" of a draft
    /// runs against. Null with the problems when the draft is not valid.
    /// </summary>
    public StorageDefinition? BuildDraft(string id, StorageEntryChange change, List<string> problems)
    {
        StoragesDocument? document;
        lock (_reloadLock)
        {
            Edited(id, change, problems, out document);
        }

        var config = document?.Storages.FirstOrDefault(s => s.Id == id);
        return config is null ? null : Define(config, _providers[config.Api!].Create(config, _providerContext));
    }

    // The whole file with the change applied, as JSON and as read, when it parses and validates; otherwise null and the problems.
    private string? Edited(string id, StorageEntryChange change, List<string> problems, out StoragesDocument? document)
    {
        document = null;
        var root = JsonNode.Parse(File.ReadAllText(_path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })?.AsObject();
        if (root?["storages"] is not JsonArray storages)
        {
            problems.Add($"{_path} has no 'storages' list.");
            return null;
        }

        var index = storages.Select((s, i) => (s, i)).FirstOrDefault(e => e.s is JsonObject o && (string?)o["id"] == id, (null!, -1)).i;
        var entry = change(index < 0 ? null : storages[index]!.DeepClone().AsObject(), problems);
        if (problems.Count > 0)
        {
            return null;
        }

        if (index >= 0)
        {
            storages.RemoveAt(index);
        }

        if (entry is not null)
        {
            entry["id"] = id;
            storages.Insert(index < 0 ? storages.Count : index, entry);
        }

        var json = root.ToJsonString(IndentedJson);
        var parsed = StorageConfigReader.Parse(json, _path, problems, Environment.GetEnvironmentVariable);
        if (parsed is not null && problems.Count == 0)
        {
            problems.AddRange(_validator.Validate(null, parsed).Failures ?? []);
        }

        if (problems.Count > 0)
        {
            return null;
        }

        document = parsed;
        return json;
    }

    private string ReadOnlyMessage => $"{_path} is read-only (mounted configuration?): change it where it comes from.";

    /// <summary>Why <c>storages.json</c> cannot be edited in place (read-only file or mount), or null when it can.</summary>
    public string? GetReadOnlyReason()
    {
        try
        {
            // Root may write any file, so a file its owner may not write (chmod a-w) is read-only by intent.
            // FileInfo.IsReadOnly would look at the "other" bits when the file is not the process's own.
            if (OperatingSystem.IsWindows() ? new FileInfo(_path).IsReadOnly : (File.GetUnixFileMode(_path) & UnixFileMode.UserWrite) == 0)
            {
                return ReadOnlyMessage;
            }

            // Opening for writing (without changing a byte) is what asks the file system, mounts included.
            using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ReadOnlyMessage;
        }
    }

    public void Dispose()
    {
        _watch.Dispose();
        _fileProvider.Dispose();
    }

    private async void OnFileChanged()
    {
        try
        {
            // Editors and atomic writers touch the file more than once; read it once, when it has settled: only the
            // last of the changes within the debounce reloads (one reload, one log line per edit).
            var change = Interlocked.Increment(ref _fileChanges);
            await Task.Delay(ReloadDebounce, _timeProvider);
            if (change == Volatile.Read(ref _fileChanges))
            {
                Reload();
            }
        }
        catch (Exception ex)
        {
            Log.ReloadFailed(_logger, _path, ex);
        }
    }

    private List<string> TryBuild(out StorageSnapshot? snapshot)
    {
        snapshot = null;
        var errors = new List<string>();
        var document = StorageConfigReader.Read(_path, errors);
        if (document is null || errors.Count > 0)
        {
            return errors;
        }

        var result = _validator.Validate(null, document);
        if (result.Failed)
        {
            errors.AddRange(result.Failures);
            return errors;
        }

        var stores = new Dictionary<string, (string Json, IObjectStore Store)>(StringComparer.Ordinal);
        var definitions = new List<StorageDefinition>(document.Storages.Count);
        foreach (var config in document.Storages)
        {
            // Reuse the store (and its connections) when the storage's entry is unchanged.
            var json = JsonSerializer.Serialize(config, StorageConfigReader.JsonOptions);
            var store = _stores.TryGetValue(config.Id!, out var previous) && previous.Json == json
                ? previous.Store
                : new MeasuredObjectStore(_providers[config.Api!].Create(config, _providerContext), config.Id!, _metrics);
            stores[config.Id!] = (json, store);
            definitions.Add(Define(config, store));
        }

        DisposeRemoved(_stores, stores);
        _stores = stores;
        snapshot = new StorageSnapshot(definitions, Interlocked.Increment(ref _version));
        return errors;
    }

    private StorageDefinition Define(StorageConfig config, IObjectStore store) => new()
    {
        Config = config,
        Store = store,
        StorageUrl = WithTrailingSlash(config.StorageUrl ?? _options.SiteUrl),
        Capacity = config.Capacity is { } c && ByteSize.TryParse(c, out var bytes) ? bytes : null,
        CacheControl = config.CacheControl ?? _options.Serving.DefaultCacheControl,
        Cached = _options.OriginCache.MemoryBytes > 0 && config.Read is ReadMode.Proxy or ReadMode.Stream && config.Cache != false,
    };

    private static void DisposeRemoved(Dictionary<string, (string Json, IObjectStore Store)> before, Dictionary<string, (string Json, IObjectStore Store)> after)
    {
        foreach (var (id, (_, store)) in before)
        {
            if ((!after.TryGetValue(id, out var kept) || !ReferenceEquals(kept.Store, store)) && store.As<IAsyncDisposable>() is { } disposable)
            {
                // Requests in flight may still hold the old store; give them time before closing its connections.
                _ = Task.Delay(TimeSpan.FromMinutes(2)).ContinueWith(_ => disposable.DisposeAsync().AsTask(), TaskScheduler.Default);
            }
        }
    }

    private static string WithTrailingSlash(string url) => url.EndsWith('/') ? url : url + "/";

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.StoragesLoaded, Level = LogLevel.Information, Message = "Loaded {Count} storage(s) from {Path}")]
        public static partial void Loaded(ILogger logger, string path, int count);

        [LoggerMessage(EventId = EventIds.StoragesReloaded, Level = LogLevel.Information, Message = "Reloaded {Path}: {Count} storage(s) in force (version {Version})")]
        public static partial void Reloaded(ILogger logger, string path, int count, long version);

        [LoggerMessage(EventId = EventIds.StoragesReloadRejected, Level = LogLevel.Error, Message = "Rejected the change to {Path}; the previous storages stay in force: {Problem}")]
        public static partial void ReloadRejected(ILogger logger, string path, string problem);

        [LoggerMessage(EventId = EventIds.StoragesOwnerNotKept, Level = LogLevel.Warning, Message = "An admin edit of {Path} could not keep its owner (only root may give a file away): the file now belongs to the router's user, with its mode unchanged")]
        public static partial void OwnerNotKept(ILogger logger, string path);

        [LoggerMessage(EventId = EventIds.StoragesReloadFailed, Level = LogLevel.Error, Message = "Reloading {Path} failed; the previous storages stay in force")]
        public static partial void ReloadFailed(ILogger logger, string path, Exception exception);
    }
}
