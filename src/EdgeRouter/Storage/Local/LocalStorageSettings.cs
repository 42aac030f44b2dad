namespace EdgeRouter.Storage.Local;

/// <summary>The <c>local</c> API's fields in storages.json.</summary>
public sealed class LocalStorageSettings
{
    /// <summary>Folder that holds the objects; relative paths are resolved against the content root.</summary>
    public string? Root { get; set; }
}
