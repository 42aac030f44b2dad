namespace EdgeRouter.LoadTests;

internal static class Sizes
{
    public static long Parse(string text) => EdgeRouter.Configuration.ByteSize.TryParse(text, out var bytes)
        ? bytes
        : throw new ArgumentException($"'{text}' is not a size such as 1GiB or 100MB.", nameof(text));
}
