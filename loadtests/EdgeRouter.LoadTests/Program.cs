using System.Globalization;
using EdgeRouter.LoadTests;

// dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- <command> [options]
var command = args.FirstOrDefault() ?? "help";
var options = args.Skip(1).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0].TrimStart('-'), p => p[1], StringComparer.OrdinalIgnoreCase);
var results = Path.Combine(Processes.RepositoryRoot, "loadtests", "results");

return command switch
{
    "upload-s3" => await UploadBenchmark.RunAsync(
        Sizes.Parse(options.GetValueOrDefault("size", "1GiB")),
        int.Parse(options.GetValueOrDefault("repeats", "2"), CultureInfo.InvariantCulture),
        results),
    _ => Usage(),
};

static int Usage()
{
    Console.WriteLine("""
        usage: dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- <command> [options]

          upload-s3 [--size 1GiB] [--repeats 2]
              A large upload through the router to a real S3 server (s3rver) against the same upload straight
              to it with the SDK; prints both throughputs, the ratio and the router's peak RSS.
        """);
    return 2;
}
