using System.Diagnostics;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Runs the real EdgeRouter binary, as an operator does, for what only a process shows (exit codes, stderr).</summary>
public static class RouterProcess
{
    public sealed record ProcessOutcome(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<ProcessOutcome> RunToExitAsync(string storagesJson, IDictionary<string, string?> environment, TimeSpan? timeout = null)
    {
        var root = Directory.CreateTempSubdirectory("edgerouter-proc-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "config"));
            await File.WriteAllTextAsync(Path.Combine(root, "config", "storages.json"), storagesJson);
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EdgeRouter.dll"), "--urls", "http://127.0.0.1:0"]) { WorkingDirectory = root };
            start.Environment.Remove("EDGEROUTER_API_KEY");
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            var (exitCode, stdout, stderr) = await Commands.RunToExitAsync(start, timeout ?? TimeSpan.FromSeconds(60), "EdgeRouter did not exit; it was expected to refuse to start.");
            return new ProcessOutcome(exitCode, stdout, stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
