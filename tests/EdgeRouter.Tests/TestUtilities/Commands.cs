using System.Diagnostics;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Runs a set-up command of a test fixture to its end.</summary>
public static class Commands
{
    public static (int ExitCode, string Output) Run(string file, params string[] arguments) => RunIn(null, file, arguments);

    /// <summary><see cref="Run"/> with <paramref name="input"/> on standard input.</summary>
    public static (int ExitCode, string Output) RunWithInput(string input, string file, params string[] arguments) => Start(null, input, file, arguments);

    /// <summary><see cref="Run"/> in the given working folder.</summary>
    public static (int ExitCode, string Output) RunIn(string? workingDirectory, string file, params string[] arguments) => Start(workingDirectory, null, file, arguments);

    /// <summary>
    /// Starts <paramref name="start"/> with its output captured and waits for its end; killed, with a
    /// <see cref="TimeoutException"/> saying <paramref name="whenStuck"/> and what it printed, if it outlives <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunToExitAsync(ProcessStartInfo start, TimeSpan timeout, string whenStuck)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{whenStuck}{Environment.NewLine}{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static (int ExitCode, string Output) Start(string? workingDirectory, string? input, string file, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = input is not null, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? string.Empty,
        })!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + error.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
