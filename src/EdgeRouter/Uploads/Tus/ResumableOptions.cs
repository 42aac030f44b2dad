namespace EdgeRouter.Uploads.Tus;

/// <summary><c>EdgeRouter:Uploads:Resumable</c>: resumable (tus) uploads.</summary>
public sealed class ResumableOptions
{
    /// <summary>
    /// Where partial uploads' bytes wait, relative to the content root. Several instances share it (a shared volume),
    /// so an upload begun on one resumes on any.
    /// </summary>
    public string Directory { get; set; } = "data/resumable";

    /// <summary>How long a partial upload waits for its next bytes before the sweeper removes it (<c>Upload-Expires</c>).</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(24);
}
