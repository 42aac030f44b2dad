using System.Diagnostics;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Runs a set-up command of a test fixture to its end.</summary>
public static class Commands
{
    public static (int ExitCode, string Output) Run(string file, params string[] arguments) => RunIn(null, file, arguments);

    /// <summary><see cref="Run"/> in the given working folder.</summary>
    public static (int ExitCode, string Output) RunIn(string? workingDirectory, string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? string.Empty })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + error.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
