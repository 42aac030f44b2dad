using System.Text.RegularExpressions;

namespace EdgeRouter.Configuration;

/// <summary><c>${ENV_VAR}</c> references in a setting, so secrets stay in the environment, not in a file.</summary>
public static partial class EnvironmentReferences
{
    /// <summary>The text with each reference replaced by its variable's value; <paramref name="missing"/> hears of each one not set (replaced by nothing).</summary>
    public static string Expand(string text, Func<string, string?> environment, Action<string> missing)
    {
        if (!text.Contains("${", StringComparison.Ordinal))
        {
            return text;
        }

        return Reference().Replace(text, match =>
        {
            var variable = match.Groups[1].Value;
            var resolved = environment(variable);
            if (resolved is null)
            {
                missing(variable);
            }

            return resolved ?? string.Empty;
        });
    }

    /// <summary>The variable the text's first reference names; null when it has none.</summary>
    public static string? First(string text) => Reference().Match(text) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Reference();
}
