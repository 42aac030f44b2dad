using BenchmarkDotNet.Running;

namespace EdgeRouter.Benchmarks;

/// <summary>dotnet run --project loadtests/EdgeRouter.Benchmarks -c Release -- --filter '*'</summary>
internal static class BenchmarkProgram
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
