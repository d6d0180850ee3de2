using System.Globalization;

namespace Proximity.Simulator.Cli;

public sealed class UsageException(string message) : Exception(message);

/// <summary>GNU-style <c>--name value</c> and <c>--flag</c> options; unknown names are refused.</summary>
public sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public static Args Parse(IEnumerable<string> args)
    {
        var a = new Args();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string s = list[i];
            if (!s.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{s}'");
            string name = s[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) value = list[++i];
            a._values[name] = value;
        }
        return a;
    }

    public bool Flag(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return false;
        return v is null or "true" or "1" or "yes" ? true
            : v is "false" or "0" or "no" ? false
            : throw new UsageException($"--{name} takes no value (or true/false), not '{v}'");
    }

    public string? Get(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v ?? throw new UsageException($"--{name} needs a value") : null;
    }

    public string Required(string name) => Get(name) is { Length: > 0 } v ? v : throw new UsageException($"missing --{name}");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (Get(name) is not { } v) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)) throw new UsageException($"--{name} must be a whole number, not '{v}'");
        if (i < min || i > max) throw new UsageException($"--{name} must be within {min}..{max}");
        return i;
    }

    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        if (Get(name) is not { } v) return fallback;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
            throw new UsageException($"--{name} must be a number, not '{v}'");
        if (d < min || d > max) throw new UsageException($"--{name} must be within {min}..{max}");
        return d;
    }

    /// <summary>Refuses options no command asked for (typos would otherwise be silently ignored).</summary>
    public void CheckAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
