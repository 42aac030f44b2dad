using System.Diagnostics;
using EdgeRouter.Tests.TestUtilities;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace EdgeRouter.Tests.LoadTests;

/// <summary>
/// The built load tool (<c>EdgeRouter.LoadTests.dll</c>) run as an operator runs it, to its end, and what it wrote:
/// report.json parsed, report.html parsed as XML (it is XHTML), report.md read.
/// </summary>
public sealed class LoadTool : IDisposable
{
    private LoadTool(string folder, int exitCode, string output)
    {
        (Folder, ExitCode, Output) = (folder, exitCode, output);
    }

    public string Folder { get; }

    public int ExitCode { get; }

    public string Output { get; }

    public JsonElement Report { get; private set; }

    public string Markdown { get; private set; } = string.Empty;

    public XDocument Html { get; private set; } = new();

    public JsonElement Step(int index) => Report.GetProperty("steps")[index];

    public static async Task<LoadTool> RunAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var folder = Directory.CreateTempSubdirectory("edgerouter-loadtool-").FullName;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EdgeRouter.LoadTests.dll"), "target", .. arguments, "--out", folder]);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var (exitCode, stdout, stderr) = await Commands.RunToExitAsync(start, timeout ?? TimeSpan.FromMinutes(2), "The load tool did not end:");
        var tool = new LoadTool(folder, exitCode, stdout + stderr);
        var json = Path.Combine(folder, "report.json");
        if (File.Exists(json))
        {
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            tool.Report = document.RootElement.Clone();
            tool.Markdown = await File.ReadAllTextAsync(Path.Combine(folder, "report.md"));
            using var reader = XmlReader.Create(Path.Combine(folder, "report.html"), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
            tool.Html = XDocument.Load(reader);
        }

        return tool;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
