namespace EdgeRouter.Storage;

/// <summary>A backend could not do what was asked. The message is safe to log: it never holds secrets.</summary>
public class StorageException : Exception
{
    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public StorageException()
    {
    }

    /// <summary>True when the backend did not answer in time (a read is then answered 504, not 502).</summary>
    public bool IsTimeout { get; init; }

    /// <summary>True when the backend refused the write for lack of room (a full disk or quota): not a fault of its health.</summary>
    public bool IsInsufficientSpace { get; init; }

    /// <summary>Whether a file-system error is a full disk (ENOSPC) or an exhausted quota (EDQUOT).</summary>
    internal static bool IsDiskFull(Exception ex) => ex.HResult is 28 or 122;
}

/// <summary>The key is taken and the write asked not to overwrite.</summary>
public sealed class ObjectAlreadyExistsException : StorageException
{
    public ObjectAlreadyExistsException(string key)
        : base($"An object already exists at key '{key}'.")
    {
        Key = key;
    }

    public ObjectAlreadyExistsException()
    {
        Key = string.Empty;
    }

    public ObjectAlreadyExistsException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    public string Key { get; }
}
