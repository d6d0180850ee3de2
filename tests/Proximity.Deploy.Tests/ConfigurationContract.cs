using System.Text.RegularExpressions;

namespace Proximity.Deploy.Tests;

/// <summary>
/// The configuration keys the server understands, read from the table in docs/operations.md
/// ("Configuration reference"), and the check that an environment variable maps onto one of them.
/// </summary>
public static partial class ConfigurationContract
{
    public const string Document = "docs/operations.md";

    /// <summary>Variables read by the platform itself (.NET host, ASP.NET Core, OpenTelemetry SDK), not by Proximity.</summary>
    private static readonly string[] PlatformPrefixes = ["OTEL_", "ASPNETCORE_", "DOTNET_"];

    public static IReadOnlySet<string> Keys { get; } = ReadKeys();

    /// <summary>Null when <paramref name="variable"/> is a contract key in environment form or a platform variable; else why not.</summary>
    public static string? Problem(string variable)
    {
        if (PlatformPrefixes.Any(p => variable.StartsWith(p, StringComparison.Ordinal))) return null;
        if (!variable.StartsWith("Proximity__", StringComparison.Ordinal))
            return $"{variable}: neither a Proximity__ configuration key nor a platform (OTEL_, ASPNETCORE_, DOTNET_) variable";
        string key = variable.Replace("__", ":", StringComparison.Ordinal);
        return Keys.Contains(key) ? null : $"{variable}: {key} is not in the configuration table of {Document}";
    }

    private static HashSet<string> ReadKeys()
    {
        string text = Repo.Read(Document);
        int start = text.IndexOf("## Configuration reference", StringComparison.Ordinal);
        if (start < 0) throw new InvalidDataException($"{Document} has no '## Configuration reference' section");
        int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = end < 0 ? text[start..] : text[start..end];
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // configuration keys ignore case
        foreach (Match m in KeyCell().Matches(section)) keys.Add(m.Groups[1].Value);
        if (keys.Count == 0) throw new InvalidDataException($"no keys found in the configuration table of {Document}");
        return keys;
    }

    [GeneratedRegex(@"^\|\s*`(Proximity(?::[A-Za-z0-9]+)+)`", RegexOptions.Multiline)]
    private static partial Regex KeyCell();
}
