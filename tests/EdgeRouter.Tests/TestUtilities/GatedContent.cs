using System.Net;
using System.Net.Http.Headers;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>An upload body (image/png) that sends its first <c>head</c> bytes, then waits for <c>gate</c> before the rest: an upload caught mid-body.</summary>
public sealed class GatedContent : HttpContent
{
    private readonly byte[] _body;
    private readonly int _head;
    private readonly Task _gate;

    public GatedContent(byte[] body, int head, Task gate)
    {
        (_body, _head, _gate) = (body, head, gate);
        Headers.ContentType = new MediaTypeHeaderValue("image/png");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(_body.AsMemory(0, _head));
        await stream.FlushAsync();
        await _gate;
        await stream.WriteAsync(_body.AsMemory(_head));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    /// <summary>Waits until an upload's staging file exists under <paramref name="folder"/>: its intent is recorded and its bytes are being written.</summary>
    public static async Task WaitForStagingFileAsync(string folder, Task<HttpResponseMessage> upload)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!Directory.Exists(folder) || !Directory.EnumerateFiles(folder, ".er-*.tmp", SearchOption.AllDirectories).Any())
        {
            Assert.False(upload.IsCompleted, "the upload ended before it was written: " + (upload.IsCompletedSuccessfully ? upload.Result.StatusCode.ToString() : upload.Exception?.Message));
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the upload's staging file never appeared");
            await Task.Delay(20);
        }
    }
}
