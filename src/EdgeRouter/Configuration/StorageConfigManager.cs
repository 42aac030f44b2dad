using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace EdgeRouter.Configuration;

/// <summary>
/// Owns the storages in force. The first load throws with every problem, so the host does not start on a bad
/// file; a reload that fails validation is logged and the previous storages stay in force (as YARP's
/// ProxyConfigManager does). Stores whose entry did not change are kept across reloads.
/// </summary>
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

internal sealed partial class StorageConfigManager : IStorageRegistry, IDisposable
{
    private static readonly TimeSpan ReloadDebounce = TimeSpan.FromMilliseconds(300);

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
        ILogger<StorageConfigManager> logger)
    {
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

                return errors;
            }

            Volatile.Write(ref _current, snapshot!);
            Log.Reloaded(_logger, _path, snapshot!.Storages.Count, snapshot.Version);
            return [];
        }
    }

    /// <summary>
    /// Changes one storage's weight or active flag in storages.json, for the admin. The edited file is validated exactly
    /// as a hand edit is, written atomically with the previous version kept beside it (<c>.bak</c>), and applied at
    /// once, so the file stays the single source of truth. Comments in the file are not kept.
    /// </summary>
    /// <returns>Null when there is no such storage; otherwise the problems, none when the change is in force.</returns>
    public IReadOnlyList<string>? UpdateStorage(string id, double? weight, bool? active)
    {
        lock (_reloadLock)
        {
            var root = JsonNode.Parse(File.ReadAllText(_path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var entry = root?["storages"]?.AsArray().OfType<JsonObject>().FirstOrDefault(s => (string?)s["id"] == id);
            if (entry is null)
            {
                return null;
            }

            if (weight is { } w)
            {
                entry["weight"] = w;
            }

            if (active is { } a)
            {
                entry["active"] = a;
            }

            var json = root!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            var errors = new List<string>();
            if (StorageConfigReader.Parse(json, _path, errors, Environment.GetEnvironmentVariable) is { } document && errors.Count == 0)
            {
                errors.AddRange(_validator.Validate(null, document).Failures ?? []);
            }

            if (errors.Count > 0)
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

    private string ReadOnlyMessage => $"{_path} is read-only (mounted configuration?): change it where it comes from.";

    /// <summary>Why <c>storages.json</c> cannot be edited in place (read-only file or mount), or null when it can.</summary>
    public string? GetReadOnlyReason()
    {
        try
        {
            if (new FileInfo(_path).IsReadOnly)
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
            // Editors and atomic writers touch the file more than once; read it when it has settled.
            await Task.Delay(ReloadDebounce, _timeProvider);
            Reload();
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
                : _providers[config.Api!].Create(config, _providerContext);
            stores[config.Id!] = (json, store);
            definitions.Add(new StorageDefinition
            {
                Config = config,
                Store = store,
                StorageUrl = WithTrailingSlash(config.StorageUrl ?? _options.SiteUrl),
                Capacity = config.Capacity is { } c && ByteSize.TryParse(c, out var bytes) ? bytes : null,
                CacheControl = config.CacheControl ?? _options.Serving.DefaultCacheControl,
            });
        }

        DisposeRemoved(_stores, stores);
        _stores = stores;
        snapshot = new StorageSnapshot(definitions, Interlocked.Increment(ref _version));
        return errors;
    }

    private static void DisposeRemoved(Dictionary<string, (string Json, IObjectStore Store)> before, Dictionary<string, (string Json, IObjectStore Store)> after)
    {
        foreach (var (id, (_, store)) in before)
        {
            if ((!after.TryGetValue(id, out var kept) || !ReferenceEquals(kept.Store, store)) && store is IAsyncDisposable disposable)
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

        [LoggerMessage(EventId = EventIds.StoragesReloadFailed, Level = LogLevel.Error, Message = "Reloading {Path} failed; the previous storages stay in force")]
        public static partial void ReloadFailed(ILogger logger, string path, Exception exception);
    }
}
