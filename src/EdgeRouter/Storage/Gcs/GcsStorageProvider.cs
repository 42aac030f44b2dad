using System.Text.Json;
using EdgeRouter.Configuration;
using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;

namespace EdgeRouter.Storage.Gcs;

/// <summary>The <c>gcs</c> API: Google Cloud Storage (Google.Cloud.Storage.V1), resumable uploads, V4 signed URLs for presigned reads.</summary>
internal sealed class GcsStorageProvider : IStorageProvider
{
    public const string DefaultEndpoint = "https://storage.googleapis.com";

    public string Api => StorageProviders.Gcs;

    public bool SupportsPresignedReads => true;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<GcsStorageSettings>(config, context) is not { } s)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(s.Bucket))
        {
            context.AddError("bucket", "is required.");
        }

        if (string.IsNullOrWhiteSpace(s.CredentialsJson))
        {
            // Only an emulator takes anonymous requests; Google's own endpoint always needs a key.
            if (s.Endpoint is null)
            {
                context.AddError("credentialsJson", "is required: a service account key JSON, inline or the path of its file.");
            }
        }
        else if (LoadCredential(s.CredentialsJson, context.ContentRoot, out var error) is null && error is not null)
        {
            context.AddError("credentialsJson", error);
        }

        context.ValidateHttpUrl(s.Endpoint, "endpoint");
        context.ValidatePrefix(s.Prefix);

        if (s.ChunkSizeBytes < UploadObjectOptions.MinimumChunkSize || s.ChunkSizeBytes % UploadObjectOptions.MinimumChunkSize != 0)
        {
            context.AddError("chunkSizeBytes", "must be a positive multiple of 256 KiB.");
        }

        if (s.PresignedExpirySeconds is < 1 or > 7 * 24 * 3600)
        {
            context.AddError("presignedExpirySeconds", "must be between 1 second and 7 days (the V4 signing limit).");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var s = StorageSettings.Bind<GcsStorageSettings>(config, null)!;
        var credential = string.IsNullOrWhiteSpace(s.CredentialsJson) ? null : LoadCredential(s.CredentialsJson, context.ContentRoot, out _);
        var endpoint = (s.Endpoint ?? DefaultEndpoint).TrimEnd('/');
        var client = new StorageClientBuilder
        {
            BaseUri = $"{endpoint}/storage/v1/",
            GoogleCredential = credential is null ? null : GoogleCredential.FromServiceAccountCredential(credential),
            UnauthenticatedAccess = credential is null,
        }.Build();
        client.Service.HttpClient.Timeout = TimeSpan.FromSeconds(s.TimeoutSeconds);
        return new GcsObjectStore(config.Id!, client, new Uri(endpoint + "/"), s.Bucket!, s.Prefix ?? string.Empty, credential, s);
    }

    /// <summary>Reads the service account key; the error never quotes the key's content.</summary>
    internal static ServiceAccountCredential? LoadCredential(string value, string contentRoot, out string? error)
    {
        error = null;
        string json;
        if (value.TrimStart().StartsWith('{'))
        {
            json = value;
        }
        else
        {
            var path = Path.GetFullPath(value, contentRoot);
            if (!File.Exists(path))
            {
                error = $"the key file '{path}' does not exist.";
                return null;
            }

            json = File.ReadAllText(path);
        }

        try
        {
            return CredentialFactory.FromJson<ServiceAccountCredential>(json);
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException or ArgumentException or FormatException or Newtonsoft.Json.JsonException or System.Security.Cryptography.CryptographicException)
        {
            error = "is not a service account key JSON (type 'service_account' with 'client_email' and 'private_key').";
            return null;
        }
    }
}
